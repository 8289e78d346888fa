import assert from "node:assert/strict";
import {
  helloProblem,
  type HostMessage,
  parseHostMessage,
  parseWorkerMessage,
  PROTOCOL_VERSION,
  type WorkerMessage,
} from "./protocol.ts";
import { StepHost, type WorkerRuntime } from "./pool.ts";
import { sandboxedWorker } from "./sandboxed_worker.ts";

const GRANTS = { read: ["/data"], write: [], net: ["example.com:443"] };
const HELLO = {
  type: "hello",
  protocol: PROTOCOL_VERSION,
  host: { pid: 42 },
  offer: { languages: ["lua"], grants: GRANTS, forbidden: [] },
} as const;

Deno.test("parseWorkerMessage() accepts the protocol's messages, keeping only their fields", () => {
  assert.deepEqual(parseWorkerMessage(HELLO), { ...HELLO, report: undefined });
  assert.deepEqual(parseWorkerMessage({ ...HELLO, report: { start: "cold" }, extra: 1 }), {
    ...HELLO,
    report: { start: "cold" },
  });
  assert.deepEqual(
    parseWorkerMessage({
      type: "done",
      id: "1",
      outcome: { kind: "result", json: "1", extra: "dropped" },
    }),
    { type: "done", id: "1", outcome: { kind: "result", json: "1" } },
  );
  assert.deepEqual(parseWorkerMessage({ type: "output", id: "1", stream: "stderr", text: "x" }), {
    type: "output",
    id: "1",
    stream: "stderr",
    text: "x",
  });
  assert.deepEqual(parseWorkerMessage({ type: "protocol_error", message: "what?" }), {
    type: "protocol_error",
    message: "what?",
  });
});

Deno.test("parseWorkerMessage() rejects anything malformed a step could post", () => {
  for (
    const bad of [
      null,
      "done",
      { type: "ready" },
      { type: "done", id: 1, outcome: { kind: "result", json: "1" } },
      { type: "done", id: "1", outcome: { kind: "result", json: { not: "text" } } },
      { type: "done", id: "1", outcome: { kind: "succeeded" } },
      { type: "output", id: "1", stream: "stdin", text: "x" },
      { type: "shutdown" },
      { ...HELLO, protocol: "1" },
      { ...HELLO, host: { pid: "42" } },
      { ...HELLO, offer: { ...HELLO.offer, languages: "lua" } },
      { ...HELLO, offer: { ...HELLO.offer, grants: { read: [1], write: [], net: [] } } },
      { ...HELLO, offer: { ...HELLO.offer, forbidden: undefined } },
    ]
  ) {
    assert.equal(parseWorkerMessage(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("parseHostMessage() accepts what the engine sends and nothing else", () => {
  const messages: HostMessage[] = [
    { type: "init", protocol: PROTOCOL_VERSION, init: { wasmPath: "/x.wasm" }, grants: GRANTS },
    { type: "run", id: "1", job: { step: "s", code: "return 1", inputs: "{}" } },
    { type: "run", id: "2", job: { step: "s", code: "", inputs: "{}", extra: { env: {} } } },
    { type: "interrupt", id: "1" },
    { type: "shutdown" },
  ];
  for (const message of messages) assert.deepEqual(parseHostMessage(message), message);
  const interrupt = new SharedArrayBuffer(8);
  const flow = new SharedArrayBuffer(4);
  const local = { ...messages[1], interrupt, flow };
  assert.deepEqual(parseHostMessage(local), local, "a host in this process keeps its buffers");
  for (
    const bad of [
      undefined,
      { type: "init", init: {}, grants: GRANTS },
      { type: "init", protocol: 1, init: {} },
      { type: "run", id: "1", job: { step: "s", code: 1, inputs: "{}" } },
      { type: "run", id: "1", job: { step: "s", code: "", inputs: {} } },
      { type: "interrupt" },
      { type: "hello" },
    ]
  ) {
    assert.equal(parseHostMessage(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("helloProblem() refuses another version, a missing language or grant, a forbidden permission", () => {
  const asked = { languages: ["lua"], grants: GRANTS };
  const hello = parseWorkerMessage(HELLO) as Extract<WorkerMessage, { type: "hello" }>;
  assert.equal(helloProblem(hello, asked), undefined);
  assert.equal(
    helloProblem({ ...hello, protocol: PROTOCOL_VERSION + 1 }, asked),
    `speaks protocol ${PROTOCOL_VERSION + 1}; this hwfe speaks ${PROTOCOL_VERSION}`,
  );
  assert.equal(
    helloProblem(hello, { ...asked, languages: ["lua", "python"] }),
    "does not run python",
  );
  assert.equal(
    helloProblem({ ...hello, offer: { ...hello.offer, grants: { ...GRANTS, net: [] } } }, asked),
    "lacks net access to example.com:443",
  );
  assert.equal(
    helloProblem({ ...hello, offer: { ...hello.offer, forbidden: ["run", "env"] } }, asked),
    "has the run, env permissions, which no step host may have",
  );
});

/** A runtime whose host answers `init` with the hello `init` describes. */
function rogue(init: unknown): WorkerRuntime {
  return {
    id: "rogue",
    languages: ["fake"],
    moduleUrl: new URL("./testdata/rogue_host.ts", import.meta.url),
    read: [],
    init: () => init,
  };
}

const JOB = { step: "s", code: "", inputs: "{}" };
const CTX = { signal: new AbortController().signal, write() {} };

Deno.test("StepHost refuses a host whose hello does not fit: the step fails with the reason", async () => {
  const cases: [unknown, RegExp][] = [
    [
      { hello: { protocol: 99 } },
      new RegExp(`the rogue step host speaks protocol 99; this hwfe speaks ${PROTOCOL_VERSION}`),
    ],
    [{ offer: { languages: ["lua"] } }, /the rogue step host does not run fake/],
    [{ offer: { forbidden: ["run"] } }, /has the run permission, which no step host may have/],
    [{ hello: { host: "me" } }, /the rogue runtime sent a malformed message/],
  ];
  for (const [init, reason] of cases) {
    const host = new StepHost(1);
    try {
      await assert.rejects(host.execute(rogue(init), JOB, CTX), reason);
    } finally {
      host.dispose();
    }
  }
});

/** The hello of a fake worker started with read access to `held`, asked for `asked`. */
async function helloOf(held: string[], asked: string[]): Promise<unknown> {
  const worker = sandboxedWorker(
    new URL("./testdata/fake_worker.ts", import.meta.url),
    "fake",
    { read: held, write: [], net: [] },
  );
  try {
    const hello = new Promise((resolve) => (worker.onmessage = ({ data }) => resolve(data)));
    worker.postMessage(
      {
        type: "init",
        protocol: PROTOCOL_VERSION,
        init: null,
        grants: { read: asked, write: [], net: [] },
      } satisfies HostMessage,
    );
    return await hello;
  } finally {
    worker.terminate();
  }
}

Deno.test("a worker's hello offers the access it holds, checked with Deno, never what it was told", async () => {
  const [a, b] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    const hello = await helloOf([a], [a, b]) as Extract<WorkerMessage, { type: "hello" }>;
    assert.deepEqual(hello.offer, {
      languages: ["fake"],
      grants: { read: [a], write: [], net: [] },
      forbidden: [],
    });
    assert.equal(
      helloProblem(hello, { languages: ["fake"], grants: { read: [a, b], write: [], net: [] } }),
      `lacks read access to ${b}`,
    );
  } finally {
    await Deno.remove(a);
    await Deno.remove(b);
  }
});

Deno.test("a host answers a message it cannot read, or another protocol version, with protocol_error", async () => {
  for (
    const [message, reason] of [
      [{ type: "run", id: 1 }, /does not know/],
      [{ type: "init", protocol: 99, init: null, grants: GRANTS }, /engine speaks protocol 99/],
    ] as const
  ) {
    const worker = sandboxedWorker(
      new URL("./testdata/fake_worker.ts", import.meta.url),
      "fake",
      { read: [], write: [], net: [] },
    );
    try {
      const answer = new Promise<WorkerMessage | undefined>((resolve) =>
        worker.onmessage = ({ data }) => resolve(parseWorkerMessage(data))
      );
      worker.postMessage(message);
      const reply = await answer;
      assert.equal(reply?.type, "protocol_error");
      assert.match((reply as { message: string }).message, reason);
    } finally {
      worker.terminate();
    }
  }
});

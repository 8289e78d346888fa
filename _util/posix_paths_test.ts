import assert from "node:assert/strict";
import { pathFault } from "./posix_paths.ts";

Deno.test("pathFault() says what POSIX says of a file followed by /, . or ..", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-paths-" });
  try {
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeTextFile(`${dir}/a.txt`, "a");
    const cases: [string, boolean, string | undefined][] = [
      ["a.txt", false, undefined],
      ["a.txt/", false, "ENOTDIR"],
      ["a.txt/.", false, "ENOTDIR"],
      ["a.txt/../a.txt", false, "ENOTDIR"],
      ["nope/", false, "ENOENT"],
      ["nope/../a.txt", false, "ENOENT"],
      ["sub/../a.txt", false, undefined],
      ["sub/", false, undefined],
      [".//a.txt", false, undefined],
      ["a.txt/", true, "EISDIR"],
      ["new.txt/", true, "EISDIR"],
      ["sub/", true, "EISDIR"],
      ["a.txt/./x", true, "ENOTDIR"],
      ["sub//new.txt", true, undefined],
    ];
    for (const [path, forWriting, fault] of cases) {
      assert.equal(pathFault(`${dir}/${path}`, forWriting), fault, `${path} (${forWriting})`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pathFault() leaves what it may not stat to Deno's own checks", () => {
  const notGranted = () => {
    throw new Deno.errors.NotCapable("no");
  };
  assert.equal(pathFault("secret/a.txt/", false, notGranted), undefined);
  assert.equal(pathFault("out/a.txt/", true, notGranted), "EISDIR");
});

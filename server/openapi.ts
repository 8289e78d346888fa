/**
 * The OpenAPI 3.1 document of `/api/v1/` (served at
 * `/api/v1/openapi.json`). tests/serve_api_test.ts checks every response
 * it describes against the real ones, so it cannot drift from the code.
 *
 * @module
 */

const nullable = (schema: Record<string, unknown>) => ({
  ...schema,
  type: [schema.type as string, "null"],
});
const string = { type: "string" };
const integer = { type: "integer" };
const number = { type: "number" };
const time = nullable({ type: "string", format: "date-time" });
const seconds = nullable(number);

const RUN_STATUS = {
  type: "string",
  enum: ["queued", "running", "succeeded", "failed", "cancelled", "interrupted"],
};

const schemas = {
  Error: {
    type: "object",
    required: ["error"],
    properties: {
      error: {
        type: "object",
        required: ["status", "message"],
        properties: { status: integer, message: string },
      },
    },
  },
  Workflow: {
    type: "object",
    required: ["name", "file"],
    description: "A workflow of the workflows directory; `error` instead of the rest when its " +
      "file does not load.",
    properties: {
      name: { ...string, description: "The file's stem: what the API names it by." },
      file: string,
      display_name: string,
      description: nullable(string),
      languages: { type: "array", items: string },
      params: nullable({ type: "object" }),
      levels: { type: "array", items: { type: "array", items: string } },
      steps: integer,
      error: string,
      last_run: nullable({
        type: "object",
        required: ["id", "status", "started"],
        properties: { id: integer, status: RUN_STATUS, started: string },
      }),
    },
  },
  Graph: {
    type: "object",
    required: ["name", "width", "height", "nodes", "edges"],
    properties: {
      name: string,
      width: number,
      height: number,
      nodes: {
        type: "array",
        items: {
          type: "object",
          required: ["id", "language", "level", "x", "y", "width", "height"],
          properties: {
            id: string,
            language: string,
            level: integer,
            x: number,
            y: number,
            width: number,
            height: number,
          },
        },
      },
      edges: {
        type: "array",
        items: {
          type: "object",
          required: ["from", "to", "points"],
          properties: {
            from: string,
            to: string,
            points: { type: "array", items: { type: "array", items: number } },
          },
        },
      },
    },
  },
  Run: {
    type: "object",
    required: ["id", "workflow", "file", "status", "started", "finished", "duration"],
    properties: {
      id: integer,
      workflow: string,
      file: nullable(string),
      status: RUN_STATUS,
      started: time,
      finished: time,
      duration: seconds,
      hwfe_version: string,
      resumed_from: nullable(integer),
    },
  },
  Step: {
    type: "object",
    required: ["status", "language", "level", "attempts"],
    properties: {
      status: string,
      language: string,
      level: integer,
      attempts: integer,
      started: time,
      duration: seconds,
      waited: seconds,
      result: {},
      error: string,
      attempt_errors: { type: "array", items: string },
      exit_code: integer,
      continue_on_error: { type: "boolean" },
      reused_from: integer,
    },
  },
  RunDetail: {
    allOf: [{ $ref: "#/components/schemas/Run" }, {
      type: "object",
      required: ["mode", "max_parallel_steps", "levels", "steps", "error", "params"],
      properties: {
        error: nullable(string),
        mode: string,
        strategy: string,
        max_parallel_steps: integer,
        params: nullable({ type: "object" }),
        levels: { type: "array", items: { type: "array", items: string } },
        steps: { type: "object", additionalProperties: { $ref: "#/components/schemas/Step" } },
      },
    }],
  },
  Started: {
    type: "object",
    required: ["id", "status", "url"],
    properties: { id: integer, status: RUN_STATUS, url: string },
  },
};

const ref = (name: keyof typeof schemas) => ({ $ref: `#/components/schemas/${name}` });
const body = (schema: unknown, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const errors = {
  "400": body(ref("Error"), "A request that cannot be: what is wrong with it"),
  "401": body(ref("Error"), "The token is missing or wrong"),
  "404": body(ref("Error"), "No such workflow, run or step"),
};
const param = (name: string, where: "path" | "query", schema: unknown, description: string) => ({
  name,
  in: where,
  required: where === "path",
  schema,
  description,
});
const runId = param("id", "path", integer, "The run's id");
const workflowName = param("name", "path", string, "The workflow file's stem");

const PATHS = {
  "/workflows": {
    get: {
      summary: "Every workflow of the workflows directory",
      responses: {
        "200": body({
          type: "object",
          required: ["workflows"],
          properties: { workflows: { type: "array", items: ref("Workflow") } },
        }, "The workflows, by name"),
      },
    },
  },
  "/workflows/{name}": {
    get: {
      summary: "One workflow",
      parameters: [workflowName],
      responses: { "200": body(ref("Workflow"), "The workflow"), ...errors },
    },
  },
  "/workflows/{name}/graph": {
    get: {
      summary: "The workflow's DAG, laid out by level",
      parameters: [workflowName],
      responses: { "200": body(ref("Graph"), "Nodes placed, edges as polylines"), ...errors },
    },
  },
  "/runs": {
    get: {
      summary: "Recorded runs, newest first",
      parameters: [
        param("workflow", "query", string, "A workflow's name or file stem"),
        param("status", "query", RUN_STATUS, "Only runs in this state"),
        param("limit", "query", { ...integer, minimum: 0, maximum: 500 }, "Default 50"),
        param("offset", "query", { ...integer, minimum: 0 }, "Runs skipped"),
      ],
      responses: {
        "200": body({
          type: "object",
          required: ["runs", "total", "limit", "offset"],
          properties: {
            runs: { type: "array", items: ref("Run") },
            total: integer,
            limit: integer,
            offset: integer,
          },
        }, "A page of runs"),
        ...errors,
      },
    },
    post: {
      summary: "Start a run (it waits, queued, while --max-runs runs are running)",
      requestBody: body({
        type: "object",
        required: ["workflow"],
        properties: {
          workflow: string,
          params: { type: "object" },
          mode: { type: "string", enum: ["sequential", "parallel"] },
          max_parallel_steps: integer,
        },
      }, "What to run"),
      responses: {
        "202": body(ref("Started"), "Recorded, queued or running"),
        ...errors,
        "413": body(ref("Error"), "The body is over 64 KiB"),
        "415": body(ref("Error"), "The body is not sent as application/json"),
        "422": body(ref("Error"), "The workflow does not load, or its params are wrong"),
      },
    },
  },
  "/runs/{id}": {
    get: {
      summary: "A run and its steps",
      parameters: [runId],
      responses: { "200": body(ref("RunDetail"), "The run"), ...errors },
    },
  },
  "/runs/{id}/steps/{step}/log": {
    get: {
      summary: "What a step wrote",
      parameters: [
        runId,
        param("step", "path", string, "The step's name"),
        param("after", "query", integer, "Lines after this seq"),
        param("limit", "query", integer, "At most this many (default 5000)"),
      ],
      responses: {
        "200": body({
          type: "object",
          required: ["lines", "next"],
          properties: {
            lines: {
              type: "array",
              items: {
                type: "object",
                required: ["seq", "at", "stream", "line"],
                properties: {
                  seq: integer,
                  at: string,
                  stream: { type: "string", enum: ["stdout", "stderr"] },
                  line: string,
                },
              },
            },
            next: integer,
          },
        }, "Its lines, in order; give `next` back as `after` to read on"),
        ...errors,
      },
    },
  },
  "/runs/{id}/cancel": {
    post: {
      summary: "Cancel a run this server started",
      parameters: [runId],
      responses: {
        "202": body({
          type: "object",
          required: ["id", "status"],
          properties: { id: integer, status: string },
        }, "Being cancelled"),
        "409": body(ref("Error"), "It has ended, or another process runs it"),
        ...errors,
      },
    },
  },
  "/runs/{id}/resume": {
    post: {
      summary: "Run the workflow again, keeping the run's unchanged successes",
      parameters: [runId],
      responses: {
        "202": body(ref("Started"), "The new run"),
        "409": body(ref("Error"), "It has not ended, or is not of the workflows directory"),
        ...errors,
      },
    },
  },
  "/runs/{id}/events": {
    get: {
      summary: "The run's events as Server-Sent Events, from the first (or after " +
        "Last-Event-ID), live until the run ends; then an `end` event",
      parameters: [
        runId,
        param("token", "query", string, "The token, for clients that cannot set headers"),
      ],
      responses: {
        "200": {
          description: "`id: <seq>`, `event: <type>`, `data: <the event's fields as JSON>`",
          content: { "text/event-stream": { schema: string } },
        },
        ...errors,
      },
    },
  },
};

/** The document, for hwfe `version`. */
export function openApiDocument(version: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "hwfe",
      version,
      description: "Run workflows and watch them: docs/SERVER.md. With a token, every call " +
        "needs `Authorization: Bearer <token>`; every POST needs `Content-Type: application/json`.",
    },
    servers: [{ url: "/api/v1" }],
    components: {
      schemas,
      securitySchemes: { token: { type: "http", scheme: "bearer" } },
    },
    security: [{}, { token: [] }],
    paths: PATHS,
  };
}

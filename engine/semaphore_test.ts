import assert from "node:assert/strict";
import { Semaphore } from "./semaphore.ts";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

Deno.test("Semaphore admits waiters in FIFO order", async () => {
  const sem = new Semaphore(1);
  await sem.acquire();
  const order: number[] = [];
  const waiters = [1, 2, 3, 4].map((n) => sem.acquire().then(() => order.push(n)));
  assert.equal(sem.waiting, 4);
  for (let i = 0; i < 4; i++) {
    sem.release();
    await waiters[i];
  }
  assert.deepEqual(order, [1, 2, 3, 4]);
  sem.release();
  assert.equal(sem.available, 1);
});

Deno.test("Semaphore never has more holders than permits", async () => {
  const sem = new Semaphore(3);
  let holders = 0;
  let peak = 0;
  const gates = Array.from({ length: 10 }, deferred);
  const tasks = gates.map((gate) =>
    sem.use(async () => {
      holders++;
      peak = Math.max(peak, holders);
      await gate.promise;
      holders--;
    })
  );
  await Promise.resolve();
  assert.equal(holders, 3);
  for (const gate of gates) gate.resolve();
  await Promise.all(tasks);
  assert.equal(peak, 3);
  assert.equal(sem.available, 3);
});

Deno.test("Semaphore.use() releases the permit when the task throws", async () => {
  const sem = new Semaphore(1);
  await assert.rejects(sem.use(() => Promise.reject(new Error("boom"))), /boom/);
  await assert.rejects(
    sem.use(() => {
      throw new Error("sync boom");
    }),
    /sync boom/,
  );
  await sem.use(() => {}); // would hang if a permit leaked
  assert.equal(sem.available, 1);
});

Deno.test("Semaphore rejects a permit count that is not a whole number >= 1", () => {
  assert.throws(() => new Semaphore(0), /whole number >= 1, got 0/);
  assert.throws(() => new Semaphore(1.5), RangeError);
});

Deno.test("Semaphore does not let a newcomer overtake a waiter", async () => {
  const sem = new Semaphore(1);
  await sem.acquire();
  const order: string[] = [];
  const first = sem.acquire().then(() => order.push("waiter"));
  sem.release(); // hands the permit to the waiter, not to the newcomer below
  const second = sem.acquire().then(() => order.push("newcomer"));
  await first;
  sem.release();
  await second;
  assert.deepEqual(order, ["waiter", "newcomer"]);
});

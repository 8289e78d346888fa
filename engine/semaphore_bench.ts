import { Semaphore } from "./semaphore.ts";

// The scheduler takes a permit per step: its cost must vanish beside a step's.
Deno.bench("Semaphore: 10,000 uncontended acquire/release", async () => {
  const semaphore = new Semaphore(4);
  for (let i = 0; i < 10_000; i++) {
    await semaphore.acquire();
    semaphore.release();
  }
});

Deno.bench("Semaphore: 10,000 waiters on 4 permits", async () => {
  const semaphore = new Semaphore(4);
  await Promise.all(Array.from({ length: 10_000 }, async () => {
    await semaphore.acquire();
    await Promise.resolve();
    semaphore.release();
  }));
});

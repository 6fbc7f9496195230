/** Lets pending I/O (other clients' requests) run before the next large piece of synchronous work. */
export const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * CLI entry: parse flags and env, then serve (or run a subcommand). Subcommands and the simulator are imported
 * only when used, so a plain start loads nothing it does not serve with.
 */
import { startMark } from "./runtime/start-trace.ts";
import { HELP } from "./cli/help.ts";
import { ConfigError } from "./config/ds2api-config.ts";
import { OptionsError, resolveOptions } from "./config/options.ts";
import { createLogger } from "./observability/logger.ts";
import { startServer } from "./server.ts";
import { StoreError } from "./store/database.ts";
import { DependencyUnavailableError } from "./core/cluster/ports.ts";
import { VERSION } from "./version.ts";

/** DS2API_SHUTDOWN_TIMEOUT_SECONDS: how long in-flight requests may run on after SIGTERM/SIGINT (default 30). */
async function main(argv: string[]): Promise<number> {
  startMark("modules loaded");
  if (argv.includes("--version") || argv.includes("-v")) {
    process.stdout.write(`ds2api ${VERSION}\n`);
    return 0;
  }
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(HELP);
    return 0;
  }
  const [command, ...rest] = argv;
  if (command === "healthcheck") {
    const options = resolveOptions(rest, process.env);
    const { runHealthcheck } = await import("./cli/healthcheck.ts");
    return runHealthcheck(options.port, options.host);
  }
  if (command === "pow") {
    const { runPowCommand } = await import("./cli/pow.ts");
    return runPowCommand(rest, Bun.stdin.stream());
  }
  if (command === "migrate") {
    const { runMigrateCommand } = await import("./cli/migrate.ts");
    return runMigrateCommand(rest);
  }
  if (command === "sim") {
    const { runSimCommand } = await import("./sim/index.ts");
    await runSimCommand(rest);
    return -1; // keep running until a signal
  }
  if (command && !command.startsWith("-")) {
    process.stderr.write(`ds2api: unknown command ${JSON.stringify(command)} (see ds2api --help)\n`);
    return 2;
  }
  let options = resolveOptions(argv, process.env);
  const logger = createLogger(options.logLevel);
  let stopSimulator: (() => Promise<void>) | undefined;
  let demoApiKey = "";
  if (options.simulate) {
    const { DEMO_API_KEY, prepareSimulation } = await import("./cli/simulate.ts");
    demoApiKey = DEMO_API_KEY;
    const dbExplicit = argv.some((a) => a === "--db" || a.startsWith("--db=")) || Boolean(process.env.DS2API_DB_PATH);
    const sim = await prepareSimulation(options, dbExplicit);
    options = sim.options;
    stopSimulator = sim.stop;
  }
  const running = await startServer(options, logger);
  // Signal handlers go in before the "listening" line: a supervisor (or test) that stops the server as soon as it
  // reads that line gets the graceful drain, never the default kill.
  // First signal: drain (in-flight streams finish, up to the timeout), release leases, checkpoint sqlite, exit 0.
  // Second signal: exit at once.
  let stopping = false;
  const onSignal = (signal: "SIGINT" | "SIGTERM") => {
    if (stopping) {
      logger.warn(`second ${signal}: exiting now`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    stopping = true;
    logger.info(`${signal}: shutting down`, { drain_timeout_s: options.shutdownTimeoutSeconds });
    running
      .stop(options.shutdownTimeoutSeconds * 1000)
      .then(() => stopSimulator?.())
      .then(
        () => {
          logger.info("stopped");
          process.exit(0);
        },
        (e) => {
          logger.error("shutdown failed", { error: (e as Error)?.stack ?? String(e) });
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  watchParent(process.env.DS2API_PARENT_PID, () => onSignal("SIGTERM"));
  if (running.generatedAdminKey) {
    process.stdout.write(
      `\n  No DS2API_ADMIN_KEY was set, so an admin key was generated. It is shown only this once:\n\n` +
        `    admin key:     ${running.generatedAdminKey}\n    admin console: ${running.url}/admin\n\n` +
        `  Keep it safe; set DS2API_ADMIN_KEY to choose your own.\n\n`,
    );
  }
  if (options.simulate) {
    process.stdout.write(
      `\n  Simulation mode: DeepSeek is simulated in-process (demo account, in-memory data).\n` +
        `    Volcengine:    the Ark console is simulated too (demo web id); try model volcengine/deepseek-r1\n` +
        `    OnDemand:      simulated too (demo API key); try model ondemand/gpt-4o\n` +
        `    demo API key:  ${demoApiKey}\n` +
        `    try:           curl -N ${running.url}/v1/chat/completions -H "Authorization: Bearer ${demoApiKey}" \\\n` +
        `                     -H "Content-Type: application/json" -d '{"model":"deepseek-v4-flash","stream":true,"messages":[{"role":"user","content":"Hello"}]}'\n\n`,
    );
  }
  // Last: the line supervisors and tests wait for; everything above (handlers, the one-time key banner) is in place.
  logger.info(`ds2api ${VERSION} listening`, { url: running.url, db: running.ctx.store.location });
  return -1; // keep running
}

/** DS2API_PARENT_PID (set by the test harness): shut down like on SIGTERM once that process is gone, so a killed
 *  test runner leaves no server behind. */
function watchParent(pidText: string | undefined, onGone: () => void): void {
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") return;
      clearInterval(timer);
      onGone();
    }
  }, 1000);
  timer.unref();
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e) => {
    const known = e instanceof OptionsError || e instanceof ConfigError || e instanceof StoreError;
    // A shared service (Postgres, Redis) still down after the start-up wait: one clear line, exit 1.
    const unreachable = e instanceof DependencyUnavailableError;
    process.stderr.write(`ds2api: ${known || unreachable ? e.message : (e as Error)?.stack ?? String(e)}\n`);
    process.exit(unreachable ? 1 : 2);
  },
);

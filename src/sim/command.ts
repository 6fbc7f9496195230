/** `ds2api sim --port N [--difficulty D] [--account email:password]... [--replay file]` — run the simulator standalone. */
import { startSimulator } from "./server.ts";
import type { SimAccountInput } from "./state.ts";

export interface SimCommandResult {
  url: string;
  stop(): Promise<void>;
}

export async function runSimCommand(args: string[]): Promise<SimCommandResult> {
  let port = 0;
  let hostname = "127.0.0.1";
  let difficulty: number | undefined;
  let replay: string | undefined;
  const accounts: SimAccountInput[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`sim: ${a} needs a value`);
      return v;
    };
    if (a === "--port") port = Number(next());
    else if (a === "--host") hostname = next();
    else if (a === "--difficulty") difficulty = Number(next());
    else if (a === "--replay") replay = next();
    else if (a === "--account") {
      const v = next();
      const at = v.indexOf(":");
      const login = v.slice(0, at);
      const password = v.slice(at + 1);
      accounts.push(login.includes("@") ? { email: login, password } : { mobile: login, password });
    } else throw new Error(`sim: unknown argument ${a}`);
  }
  if (accounts.length === 0) accounts.push({ email: "sim@example.com", password: "sim-password" });
  const sim = await startSimulator({ port, hostname, powDifficulty: difficulty ?? 144000, accounts });
  if (replay) sim.state.setDefaultReply({ replay: { file: replay } });
  console.log(`ds2api simulator listening on ${sim.url} (${accounts.length} account(s), PoW difficulty ${difficulty ?? 144000})`);
  return { url: sim.url, stop: sim.stop };
}

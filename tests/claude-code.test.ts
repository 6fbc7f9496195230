/**
 * A real agent: Claude Code (`claude -p`, from the npm package) pointed at ds2api with ANTHROPIC_BASE_URL,
 * the simulator scripted to call Claude Code's Write tool, completes the tool loop and writes the file.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { toolCallMarkup } from "../src/sim/index.ts";
import { spawnTracked } from "./support/processes.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { repoRoot } from "./support/test-server.ts";

/** The platform binary (the package's bin/claude.exe is replaced by it in a postinstall step). */
function claudeBinary(): string {
  const candidates = [`${process.platform}-${process.arch}`].map((p) => join(repoRoot, "node_modules/@anthropic-ai", `claude-code-${p}`, "claude"));
  candidates.push(join(repoRoot, "node_modules/@anthropic-ai/claude-code/bin/claude.exe"));
  const found = candidates.find((c) => existsSync(c) && Bun.file(c).size > 1_000_000);
  if (!found) throw new Error(`Claude Code binary not found (npm install should provide it): ${candidates.join(", ")}`);
  return found;
}

let stack: Stack;
let work: string;
beforeAll(async () => {
  stack = await startStack({ accounts: 1 });
  work = join(stack.dir, "work");
  mkdirSync(join(stack.dir, "home"), { recursive: true });
  mkdirSync(work, { recursive: true });
});
afterAll(() => stack?.stop());

test("claude -p completes a Write tool loop through ds2api", async () => {
  const seen: { tools: boolean; result: boolean }[] = [];
  stack.sim.state.setDefaultReply((ctx) => {
    // Claude Code's prompt is long, so the conversation may arrive as an attached DS2API_HISTORY.txt.
    const attached = ctx.refFileIds.map((id) => new TextDecoder().decode(stack.sim.state.files.get(id)?.bytes ?? new Uint8Array())).join("\n");
    const conversation = `${ctx.prompt}\n${attached}`;
    const hasResult = conversation.includes("[tool_result") || /=== \d+\. TOOL ===/.test(conversation);
    seen.push({ tools: ctx.prompt.includes("Tool: Write"), result: hasResult });
    if (hasResult) return { answer: "Created hello.txt." };
    return { thinking: "I should use the Write tool.", answer: `I'll create it.\n\n${toolCallMarkup("Write", { file_path: join(work, "hello.txt"), content: "hello from ds2api" })}` };
  });
  // Registered: killed after the test even if it times out (tests/support/processes.ts).
  const proc = spawnTracked(
    [claudeBinary(), "-p", "Create hello.txt containing: hello from ds2api", "--allowedTools", "Write", "--model", "claude-sonnet-4-6", "--output-format", "json"],
    {
      cwd: work,
      env: {
        HOME: join(stack.dir, "home"),
        ANTHROPIC_BASE_URL: stack.url,
        ANTHROPIC_API_KEY: API_KEY,
        DISABLE_TELEMETRY: "1",
        DISABLE_AUTOUPDATER: "1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`claude exited ${code}: ${err}${out}`);
  const result = JSON.parse(out) as { is_error: boolean; result: string; num_turns: number };
  expect(result.is_error).toBe(false);
  expect(result.result).toBe("Created hello.txt.");
  expect(result.num_turns).toBe(2);
  expect(readFileSync(join(work, "hello.txt"), "utf8")).toBe("hello from ds2api");
  // first request offered the tools, the second carried the tool result back
  expect(seen[0]!.tools).toBe(true);
  expect(seen.some((s) => s.result)).toBe(true);
}, 120_000);

import { expect, test } from "bun:test";
import { powResponseHeader } from "../src/upstream/pow/header.ts";
import { solveRange } from "../src/upstream/pow/solver.ts";
import { challengeOf, powVectors } from "./pow-fixtures.ts";

test("header is base64 of compact JSON with a numeric answer and the challenge fields copied", () => {
  const v = powVectors.solve_vectors.find((x) => x.salt === "salt" && x.answer === 777)!;
  const c = { ...challengeOf(v), signature: "sig", target_path: "/api/v0/chat/completion", extra: "ignored" };
  const answer = solveRange(c)!;
  const header = powResponseHeader(c, answer);
  expect(header).toMatch(/^[A-Za-z0-9+/]+=*$/);
  const raw = Buffer.from(header, "base64").toString("utf8");
  expect(raw).not.toContain(" ");
  const decoded = JSON.parse(raw);
  expect(decoded).toEqual({
    algorithm: "DeepSeekHashV1",
    challenge: v.challenge,
    salt: v.salt,
    answer: v.answer,
    signature: "sig",
    target_path: "/api/v0/chat/completion",
  });
  expect(typeof decoded.answer).toBe("number");
  expect(decoded).not.toHaveProperty("difficulty");
  expect(decoded).not.toHaveProperty("expire_at");
});

test("header keeps non-ASCII salts as UTF-8", () => {
  const c = { ...challengeOf(powVectors.solve_vectors[0]!), salt: "盐" };
  const decoded = JSON.parse(Buffer.from(powResponseHeader(c, 7), "base64").toString("utf8"));
  expect(decoded.salt).toBe("盐");
});

test("header refuses a missing signature or a bad answer", () => {
  const c = challengeOf(powVectors.solve_vectors[0]!);
  expect(() => powResponseHeader({ ...c, signature: undefined as unknown as string }, 1)).toThrow("signature");
  expect(() => powResponseHeader(c, -1)).toThrow();
  expect(() => powResponseHeader(c, 1.5)).toThrow();
});

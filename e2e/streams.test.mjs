// resocket/streams on the real transport in headless Chromium and Firefox
// (through their WebDriver drivers, e2e/webdriver.mjs) against the real
// server (its demo handler streams a reply word by word, numbered, see
// PROTOCOL.md §8): the connection is dropped twice in the middle of a reply
// and the assembled text is still the whole reply, each word once; and when
// words are lost for good (the server kept too few to replay: a `gap`), the
// reply is marked interrupted instead of passing for whole. Outcomes are
// counted, never timed.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { json, startServer } from "./support.mjs";
import { BROWSERS, blankPage, launch } from "./webdriver.mjs";

let server;
let small; // keeps ~2 KB of frames per session for replay
const { mounts, remove } = blankPage("streams");

before(async () => {
  server = await startServer(mounts);
  small = await startServer([...mounts, "--replay-bytes", "2000"]);
});

after(async () => {
  await Promise.all([server, small].map((running) => running?.stop()));
  remove();
});

const WORDS = Array.from({ length: 60 }, (_, n) => `word${n + 1}`);
const TEXT = WORDS.join(" ");

/**
 * In the page: a transport with `options` and a ReplyStreams on it; asks for
 * TEXT streamed `intervalMs` apart under key "reply", runs `fault` (a
 * function's source, called with the session id and the piece count) on
 * every piece, and resolves with what the helper assembled once it is done.
 */
async function streamIn(browser, base, { intervalMs, fault }) {
  const tab = await browser.open(`${base}/blank/index.html`);
  return tab.run(
    async ({ base, text, intervalMs, fault }) => {
      const { default: init, WebSocketTransport } = await import(`${base}/pkg/resocket.js`);
      const { ReplyStreams } = await import(`${base}/pkg/streams.js`);
      await init();
      const transport = new WebSocketTransport({
        url: `${base.replace(/^http/, "ws")}/ws`,
        delivery: "at-least-once",
        reconnectInterval: 50,
        reconnectJitter: 0,
      });
      const replies = new ReplyStreams(transport);
      const closes = [];
      transport.on("close", (close) => closes.push(close.code));
      const onPiece = new Function("base", "session", "tokens", `return (${fault})(base, session, tokens)`);
      const updates = [];
      const done = new Promise((resolve) =>
        replies.onUpdate((reply) => {
          updates.push(reply.tokens);
          onPiece(base, transport.sessionId, reply.tokens);
          if (reply.done) resolve(reply);
        }),
      );
      await transport.sendWithAck("stream", { stream: "reply", text, intervalMs });
      const reply = await done;
      const result = { reply, closes, updates, session: transport.sessionId, list: replies.list().length };
      replies.dispose();
      transport.free();
      return result;
    },
    { base, text: TEXT, intervalMs, fault: fault.toString() },
  );
}

for (const name of BROWSERS) {
  describe(name, () => {
    let browser;
    before(async () => {
      browser = await launch(name);
    });
    after(async () => {
      await browser?.quit();
    });

    test("a reply streamed through two dropped connections arrives whole, each piece once", { timeout: 60_000 }, async () => {
      const seen = await streamIn(browser, server.url, {
        intervalMs: 25,
        // Drops the socket (TCP close, no close frame) after the 10th and the 30th piece.
        fault: (base, session, tokens) => {
          if (tokens === 10 || tokens === 30) fetch(`${base}/control/${session}/drop`, { method: "POST" });
        },
      });
      assert.equal(seen.reply.text, TEXT, "every word, in order, none twice");
      assert.equal(seen.reply.tokens, WORDS.length + 1, "60 words and the closing piece");
      assert.deepEqual([seen.reply.done, seen.reply.interrupted, seen.reply.key], [true, false, "reply"]);
      assert.equal(seen.closes.length, 2, `the two drops happened mid-reply: ${seen.closes}`);
      assert.ok(seen.closes.every((code) => code === 1006), String(seen.closes));
      assert.deepEqual(
        seen.updates,
        Array.from({ length: WORDS.length + 1 }, (_, n) => n + 1),
        "one update per piece, counting up: no piece delivered twice",
      );
      assert.equal(seen.list, 1);
      // The request was handled once: its resend (if any) was acknowledged, not streamed again.
      const log = await json(`${server.url}/control/${seen.session}/log`);
      const handled = log.frames.filter((frame) => frame.type === "stream" && !frame.duplicate);
      assert.equal(handled.length, 1, JSON.stringify(log.frames));
    });

    test("pieces lost for good (the server kept too few to replay) mark the reply interrupted", { timeout: 60_000 }, async () => {
      const seen = await streamIn(browser, small.url, {
        intervalMs: 10,
        // After the 5th piece: no reconnect for 1.5 s while the server streams
        // on into a replay log that keeps only the last ~2 KB, then the drop.
        fault: (base, session, tokens) => {
          if (tokens !== 5) return;
          fetch(`${base}/control/${session}/refuse?ms=1500`, { method: "POST" }).then(() =>
            fetch(`${base}/control/${session}/drop`, { method: "POST" }),
          );
        },
      });
      assert.equal(seen.reply.done, true);
      assert.equal(seen.reply.interrupted, true, JSON.stringify(seen.reply));
      assert.ok(seen.reply.tokens < WORDS.length + 1, `pieces were lost: ${seen.reply.tokens}`);
      assert.ok(TEXT.startsWith(seen.reply.text.slice(0, 20)), "what arrived before the gap is the reply's start");
      assert.ok(seen.reply.text.endsWith("word60"), "and what arrived after it is its end");
    });
  });
}

// The page e2e/react.test.mjs drives: one component on resocket/react's
// hooks, under StrictMode, re-rendered with whatever props the test hands to
// window.render(). Bundled by the test with esbuild (React from the dev tools'
// node_modules, resocket from pkg/).
import { StrictMode, useEffect } from "react";
import { createRoot } from "react-dom/client";
import type { TransportOptions, WebSocketTransport } from "resocket";
import { useMessages, useOnMessage, useOutbox, useReplyStream, useReplyStreams, useTransport, useTransportSnapshot } from "resocket/react";
import type { Outbox } from "resocket/react";

/** What the test passes to window.render(). */
interface HarnessProps {
  mounted: boolean;
  /** null: no transport wanted. */
  url: string | null;
  /** Pass `url` as a new function on every render, returning window.socketUrl. */
  urlFunction?: boolean;
  extra?: Record<string, unknown>;
  /** Put into every useOnMessage record: which render's handler ran. */
  tag?: string;
  /** The key useReplyStream follows (null: none). */
  replyKey?: string | null;
}

interface HarnessWindow {
  render(props: HarnessProps): void;
  socketUrl: string;
  /** Every distinct transport the component rendered with, in order. */
  transports: WebSocketTransport[];
  commits: number;
  /** `tag:text` for every "message" envelope the useOnMessage handler saw. */
  handled: string[];
  outbox: Outbox<{ text: string }>;
}
const harness = window as unknown as HarnessWindow;
harness.transports = [];
harness.commits = 0;
harness.handled = [];

function Probe({ url, urlFunction, extra, tag, replyKey = null }: HarnessProps) {
  const options: TransportOptions | null =
    url === null ? null : { ...extra, url: urlFunction ? () => harness.socketUrl : url };
  const { transport, error } = useTransport(options);
  const snapshot = useTransportSnapshot(transport);
  const received = useMessages<{ text: string }>(transport, "message", { limit: 3 });
  // A new closure on every render: the latest one must be the one called.
  useOnMessage<{ text: string }>(transport, "message", (envelope) => harness.handled.push(`${tag}:${envelope.data.text}`));
  const outbox = useOutbox<{ text: string }>(transport);
  const replies = useReplyStreams(transport);
  const followed = useReplyStream(transport, replyKey);
  if (transport && !harness.transports.includes(transport)) harness.transports.push(transport);
  useEffect(() => {
    harness.outbox = outbox;
  }, [outbox]);
  useEffect(() => {
    harness.commits++;
    document.getElementById("probe")?.setAttribute("data-commits", String(harness.commits));
  });
  return (
    <output
      id="probe"
      data-state={snapshot?.state ?? "none"}
      data-session={snapshot?.sessionId ?? ""}
      data-error={error ? `${error.name}: ${error.message}` : ""}
      data-received={received.map((envelope) => envelope.data.text).join("|")}
      data-outbox={outbox.messages.map((message) => `${message.data.text}:${message.status}`).join("|")}
      data-outbox-errors={outbox.messages.map((message) => message.error?.message ?? "").join("|")}
      data-replies={replies.map((reply) => `${reply.key}:${reply.text}${reply.done ? ":done" : ""}`).join("|")}
      data-followed={followed ? `${followed.text}${followed.done ? ":done" : ""}` : "none"}
    />
  );
}

const container = document.getElementById("root");
if (!container) throw new Error("no #root");
const root = createRoot(container);
harness.render = (props) =>
  root.render(<StrictMode>{props.mounted ? <Probe {...props} /> : <output id="probe" data-state="unmounted" />}</StrictMode>);

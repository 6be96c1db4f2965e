// The page e2e/react.test.mjs drives: one component on resocket/react's
// hooks, under StrictMode, re-rendered with whatever props the test hands to
// window.render(). Bundled by the test with esbuild (React from the dev tools'
// node_modules, resocket from pkg/).
import { StrictMode, useEffect } from "react";
import { createRoot } from "react-dom/client";
import type { TransportOptions, WebSocketTransport } from "resocket";
import { useTransport, useTransportSnapshot } from "resocket/react";

/** What the test passes to window.render(). */
interface HarnessProps {
  mounted: boolean;
  /** null: no transport wanted. */
  url: string | null;
  /** Pass `url` as a new function on every render, returning window.socketUrl. */
  urlFunction?: boolean;
  extra?: Record<string, unknown>;
}

interface HarnessWindow {
  render(props: HarnessProps): void;
  socketUrl: string;
  /** Every distinct transport the component rendered with, in order. */
  transports: WebSocketTransport[];
  commits: number;
}
const harness = window as unknown as HarnessWindow;
harness.transports = [];
harness.commits = 0;

function Probe({ url, urlFunction, extra }: HarnessProps) {
  const options: TransportOptions | null =
    url === null ? null : { ...extra, url: urlFunction ? () => harness.socketUrl : url };
  const { transport, error } = useTransport(options);
  const snapshot = useTransportSnapshot(transport);
  if (transport && !harness.transports.includes(transport)) harness.transports.push(transport);
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
    />
  );
}

const container = document.getElementById("root");
if (!container) throw new Error("no #root");
const root = createRoot(container);
harness.render = (props) =>
  root.render(<StrictMode>{props.mounted ? <Probe {...props} /> : <output id="probe" data-state="unmounted" />}</StrictMode>);

// Server-rendered on every request; the probe is a client component, so
// resocket is imported on the server too (it must touch no browser API there).
import { EchoProbe } from "./EchoProbe";

export const dynamic = "force-dynamic";

export default function Page() {
  return <EchoProbe />;
}

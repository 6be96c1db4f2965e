// A module worker with its own transport (workers have no import maps: the
// package is imported by path). Reports to the page what the probe shows.
import { createTransport } from "./node_modules/resocket/resocket.js";

self.onmessage = async ({ data: server }) => {
  try {
    const transport = await createTransport({ url: server, delivery: "at-least-once" });
    const report = (fields) => self.postMessage(fields);
    report({ session: transport.sessionId, state: transport.state });
    transport.on("state", (state) => report({ state }));
    transport.onMessage("message", (envelope) => report({ echo: envelope.data.text }));
    report({ delivery: "pending" });
    transport.sendWithAck("message", { text: "hello from the bundle" }).then(
      () => report({ delivery: "acknowledged" }),
      (error) => report({ delivery: `failed: ${error.message}` }),
    );
  } catch (error) {
    self.postMessage({ error: error.message });
  }
};

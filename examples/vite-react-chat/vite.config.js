import react from "@vitejs/plugin-react";
import { defineConfig, searchForWorkspaceRoot } from "vite";

// In `npm run dev` the chat talks to a resocket server through this proxy:
// RESOCKET_SERVER (default 127.0.0.1:8080, what `bash scripts/demo` starts).
// The built app (`npm run build`) is served by that server itself.
const server = process.env.RESOCKET_SERVER ?? "127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  // This example links the package from ../../pkg: without dedupe, the
  // import of "react" in pkg/react.js (resocket/react) would resolve from
  // there, to the repository's own copy, and the page would run two Reacts.
  // An app that installs resocket from npm needs no entry.
  resolve: { dedupe: ["react", "react-dom"] },
  server: {
    // This example links the package from ../../pkg (outside its root); an app
    // that installs resocket from npm has it under node_modules and needs no entry.
    fs: { allow: [searchForWorkspaceRoot(process.cwd()), "../../pkg"] },
    proxy: {
      "/ws": { target: `ws://${server}`, ws: true },
      // The HTTP fallback's endpoints, on the same server.
      "/messages": `http://${server}`,
      "/events": `http://${server}`,
    },
  },
});

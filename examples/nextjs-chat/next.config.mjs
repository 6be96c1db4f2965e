import { fileURLToPath } from "node:url";

/** @type {import('next').NextConfig} */
export default {
  // The tests build both bundlers side by side (webpack into .next-webpack).
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  // Effects run twice in development: the chat must still open one socket.
  reactStrictMode: true,
  // This example links the package from ../../pkg; resolving it needs the
  // repository as the root. An app installing resocket from npm needs neither.
  turbopack: { root: fileURLToPath(new URL("../..", import.meta.url)) },
  outputFileTracingRoot: fileURLToPath(new URL("../..", import.meta.url)),
};

// The app every Vite version in the matrix builds, with no vite.config at
// all: resocket and resocket/react as a new user would import them. Written
// without JSX so that no React plugin (itself a configuration) is needed.
import { createElement as h, StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { EchoProbe } from "./probe";

const root = document.getElementById("root");
if (!root) throw new Error("no #root");
createRoot(root).render(h(StrictMode, null, h(EchoProbe)));

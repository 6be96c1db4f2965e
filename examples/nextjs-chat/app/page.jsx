// A server component: rendered on the server for every request (so the socket
// URL can come from the environment at run time), then hydrated. Nothing here
// or in the import graph below touches window, document or WebSocket on the server.
import { Chat } from "./Chat.jsx";

export const dynamic = "force-dynamic";

export default function Page() {
  const socketUrl = process.env.RESOCKET_URL ?? "ws://127.0.0.1:8080/ws";
  return (
    <main>
      <Chat socketUrl={socketUrl} />
    </main>
  );
}

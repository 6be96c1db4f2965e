import "./styles.css";

export const metadata = { title: "resocket · Next.js chat" };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}

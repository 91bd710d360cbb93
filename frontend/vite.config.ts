/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The bundle is built into static/atelier/ with fixed entry names, so the page shell
// (templates/web/app.html) names it without reading a manifest. Lazily loaded chunks keep
// Vite's content-hashed names and are fetched relative to `base`.
export default defineConfig({
  plugins: [react()],
  base: "/static/atelier/",
  build: {
    outDir: fileURLToPath(new URL("../static/atelier", import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    // One stylesheet for the whole app, so its name can be fixed too.
    cssCodeSplit: false,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: fileURLToPath(new URL("src/main.tsx", import.meta.url)),
      output: {
        entryFileNames: "atelier.js",
        chunkFileNames: "chunks/[name]-[hash].js",
        assetFileNames: (asset) => (asset.names?.some((n) => n.endsWith(".css")) ? "atelier.css" : "assets/[name]-[hash][extname]"),
      },
    },
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});

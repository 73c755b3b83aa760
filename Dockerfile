# Cookie Lab as an image: the build (esbuild bundle and precompiled templates) made once, then
# `node dist/main.js`. The lab's own Node comes from its npm dependencies (the `node` package).
FROM node:24-bookworm-slim AS build
WORKDIR /lab
# sqlite3 compiles from source: the toolchain is needed at build time only.
RUN apt-get update -qq && apt-get install -y -qq python3 make g++ >/dev/null && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /lab
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0
COPY --from=build /lab /lab
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:3000/healthz').then(r => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"
CMD ["node", "--enable-source-maps", "dist/main.js"]

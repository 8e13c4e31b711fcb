# lakestream's own image: the CLI (producer, stream workers, dashboard) on Node 24, run by type stripping.

# build stage: every dependency, to bundle the dashboard with esbuild (a devDependency)
FROM node:24-bookworm-slim AS build
WORKDIR /app
# patches/: the Kafka client's fix, applied by patch-package when npm installs (src/transport/kafka/README.md)
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY bin ./bin
COPY src ./src
RUN npm run build:web

# runtime stage: runtime dependencies only; the `node` devDependency is the image's own Node 24
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/bin ./bin
COPY --from=build /app/src ./src
# state of the embedded engines, if used (the compose file points at Kafka and HDFS instead)
RUN mkdir -p /app/.lakestream && chown node:node /app/.lakestream
VOLUME /app/.lakestream
USER node
ENTRYPOINT ["node", "src/cli/main.ts"]
CMD ["--help"]

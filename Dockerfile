# pollwire: one process, HTTP + Socket.IO on port 3000, state in /data (or DATABASE_URL).
FROM node:20-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY contract ./contract
COPY core ./core
COPY store ./store
COPY handlers ./handlers
COPY runtime ./runtime
COPY web ./web
# Compiled to plain JavaScript (dist/) with the dev tools, which are then removed: the image
# starts without a TypeScript compiler and keeps only the runtime dependencies.
RUN npm ci --include=dev && npm run build && npm prune --omit=dev && npm cache clean --force
RUN mkdir -p -m 700 /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/runtime/main.js"]

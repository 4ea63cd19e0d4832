// `npm run bench` compiles bench/*.ts (tsconfig.bench.json) and starts it here: see bench/main.ts.
import '../dist-bench/bench/main.js';

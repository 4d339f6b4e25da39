#!/usr/bin/env node
// Entry point for `npx sluice` / `npm start`: runs the TypeScript sources through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../services/cli/main.ts');

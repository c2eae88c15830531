#!/usr/bin/env node
// The package ships TypeScript sources; tsx's loader runs them on Node 20, which cannot strip types.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli.ts');

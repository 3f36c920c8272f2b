// Every command of the CLI, in the order `cohort --help` lists them. Add one import and one entry per command.
import type { Command } from '../command.js';
import { startCommand } from './start.js';
import { configCommand } from './config.js';
import { usersCommand } from './users.js';
import { clientsCommand } from './clients.js';
import { spsCommand } from './sps.js';
import { clusterCommand } from './cluster.js';
import { dbCommand } from './db.js';

export const commands: Command[] = [
  startCommand,
  configCommand,
  usersCommand,
  clientsCommand,
  spsCommand,
  clusterCommand,
  dbCommand,
];

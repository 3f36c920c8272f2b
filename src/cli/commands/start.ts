// `cohort start`: runs one node in the foreground until SIGINT or SIGTERM.
import type { Command } from '../command.js';
import { CliError, parse } from '../command.js';
import { loadConfig } from '../../config/load.js';
import { ConfigError } from '../../config/errors.js';

const HELP = `Usage: cohort start [options]

Runs a Cohort node in the foreground. On first start the data directory is created with signing keys
(RS256, ES256), a cookie key, the embedded database and a first administrator whose one-time password is
printed once (set COHORT_ADMIN_PASSWORD to choose it instead).

Options:
  --data-dir DIR     data directory (env COHORT_DATA_DIR, default ./cohort-data)
  --config FILE      configuration file (default DIR/cohort.json when it exists)
  --host H           address to listen on (default 127.0.0.1)
  --port N           HTTP port (default 9000; 0 picks a free port)
  --issuer URL       public base URL when behind a proxy or load balancer (default http://HOST:PORT)
  -h, --help         show this help

Every configuration knob can also be set in the file or as an environment variable: see 'cohort config docs'.
Stop with Ctrl-C (SIGINT) or SIGTERM; requests in flight finish first.
`;

export const startCommand: Command = {
  name: 'start',
  summary: 'Run an identity server node in the foreground',
  help: HELP,
  async run(argv, io) {
    const { values } = parse(argv, {
      'data-dir': { type: 'string' }, config: { type: 'string' }, host: { type: 'string' },
      port: { type: 'string' }, issuer: { type: 'string' },
    }, false);
    const overrides: Record<string, unknown> = {};
    if (values['data-dir'] !== undefined) overrides.dataDir = values['data-dir'];
    if (values.host !== undefined) overrides['http.host'] = values.host;
    if (values.port !== undefined) overrides['http.port'] = values.port;
    if (values.issuer !== undefined) overrides['http.issuer'] = values.issuer;
    let config;
    try {
      config = loadConfig({ ...(values.config ? { file: values.config } : {}), env: io.env, overrides });
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message, 1);
      throw err;
    }
    // Loaded here, not at the top, so other commands do not pay for (or warn about) the protocol engine.
    const { startNode } = await import('../../node.js');
    const node = await startNode({ config, env: io.env, announce: (text) => io.stderr.write(text) });
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        node.logger.info({ event: 'node.stopping', signal }, 'stopping');
        node.stop().then(resolve, (err) => { node.logger.error({ err }, 'error while stopping'); resolve(); });
      };
      const onInt = () => stop('SIGINT');
      const onTerm = () => stop('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    });
    return 0;
  },
};

/**
 * `bvs ovsdb-server` and `bvs ovsdb-tool`: the OVSDB server of src/ovsdb as a standalone process,
 * and offline file tools, with ovsdb-server(1)/ovsdb-tool(1) spellings.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_MAX_CONNECTIONS, OvsdbServer, parseRemote, Storage, VSWITCH_SCHEMA_PATH } from '../ovsdb/index.ts';

const ModeSchema = z.string().regex(/^0?[0-7]{3}$/, 'must be an octal mode like 0600');

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function registerOvsdb(program: Command): void {
  program
    .command('ovsdb-server')
    .description('serve OVSDB database files over JSON-RPC (RFC 7047), like ovsdb-server')
    .argument('<FILE...>', 'database file(s) created with `bvs ovsdb-tool create`')
    .option('--remote <REMOTE>', 'punix:PATH or ptcp:PORT[:IP] (IP defaults to 127.0.0.1); repeatable', collect, [])
    .option('--unix-mode <MODE>', 'mode of created unix sockets', '0600')
    .option('--max-connections <N>', 'connections served at once per remote; more are closed at accept', String(DEFAULT_MAX_CONNECTIONS))
    .action(async (files: string[], o: { remote: string[]; unixMode: string; maxConnections: string }) => {
      for (const r of o.remote) parseRemote(r); // fail early with the offending remote named
      const mode = ModeSchema.safeParse(o.unixMode);
      if (!mode.success) throw new Error(`--unix-mode ${o.unixMode}: ${mode.error.issues[0].message}`);
      const max = z.coerce.number().int().min(1).safeParse(o.maxConnections);
      if (!max.success) throw new Error(`--max-connections ${o.maxConnections}: must be a positive integer`);
      if (!o.remote.length) process.stderr.write('ovsdb-server: warning: no --remote given; nothing will connect\n');
      const srv = await OvsdbServer.open({
        dbPath: files, remotes: o.remote, socketMode: parseInt(mode.data, 8), limits: { maxConnections: max.data },
      });
      process.stderr.write(`ovsdb-server: serving ${srv.handles.map((h) => h.name).join(', ')} on ${o.remote.join(', ') || '(none)'}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await srv.close();
    });

  const tool = program.command('ovsdb-tool').description('create and compact OVSDB database files, like ovsdb-tool');
  tool
    .command('create')
    .description('create FILE from SCHEMA (default: the bvs Open_vSwitch schema)')
    .argument('<FILE>')
    .argument('[SCHEMA]')
    .action(async (file: string, schemaPath?: string) => {
      const p = schemaPath ?? VSWITCH_SCHEMA_PATH;
      let json: unknown;
      try {
        json = JSON.parse(await readFile(p, 'utf8'));
      } catch (err) {
        throw new Error(`${p}: ${(err as Error).message}`, { cause: err });
      }
      await Storage.create(file, json);
    });
  tool
    .command('compact')
    .description('rewrite FILE as a snapshot of its current contents')
    .argument('<FILE>')
    .action(async (file: string) => {
      const st = await Storage.open(file);
      try {
        await st.compact();
      } finally {
        await st.close();
      }
    });
  tool
    .command('schema-name')
    .description("print the name of FILE's schema")
    .argument('<FILE>')
    .action(async (file: string) => {
      process.stdout.write(`${(await Storage.readSchema(file)).name}\n`);
    });
}

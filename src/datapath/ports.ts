/**
 * PortTable: the ports of one datapath. A port is a network device with a datapath port number
 * (1..0xfffffeff, at most ABI.MAX_PORTS), an entry in three maps (ports: port_no -> device,
 * ifindex_port: ifindex -> port_no, port_stats) and a tcx link of the datapath's program to the
 * device, pinned at <dir>/link_<port_no> (pins.ts) so it outlives the process.
 *
 * Invariants:
 *   - a port's number, device (ifindex) and name are each unique in the datapath;
 *   - addPort is all or nothing: a failure undoes the map entries it wrote, in reverse order;
 *   - delPort detaches the link before it removes the map entries, so the program never runs
 *     for a device whose port entry is gone.
 */
import fs from 'node:fs';
import { ABI, LAYOUT } from './abi.ts';
import { addon } from './addon.ts';
import { decodePort, encodePort, type PortEntry, readU32, sumPerCpu, u32 } from './codec.ts';
import { DatapathError } from './errors.ts';
import { BPF_ANY, BPF_NOEXIST } from './mapio.ts';
import { netdevInfo } from '../netdev/index.ts';
import { detachPinnedLink, linkPinPath, removePins } from './pins.ts';
import { perCpuSize } from './stats.ts';

export interface Port extends PortEntry {
  portNo: number;
}

export interface PortStats {
  rxPackets: bigint; rxBytes: bigint; rxDropped: bigint;
  txPackets: bigint; txBytes: bigint; txDropped: bigint;
}

export interface PortFds {
  ports: number;
  ifindex_port: number;
  port_stats: number;
}

export class PortTable {
  /** `name` names the datapath in errors; `dir` is its pin directory. */
  constructor(private readonly name: string, private readonly dir: string, private readonly fds: PortFds,
    private readonly progFd: number, private readonly nCpus: number) {}

  list(): Port[] {
    const a = addon();
    const out: Port[] = [];
    const key = new Uint8Array(4);
    const val = new Uint8Array(LAYOUT.bvs_port.size);
    let prev: Uint8Array | null = null;
    while (a.mapGetNextKey(this.fds.ports, prev, key)) {
      const k = Uint8Array.from(key);
      if (a.mapLookup(this.fds.ports, k, val)) out.push({ portNo: readU32(k), ...decodePort(val) });
      prev = k;
    }
    return out.sort((x, y) => x.portNo - y.portNo);
  }

  /** By number, or by name (a string of digits that names no port is taken as a number). */
  find(nameOrNo: string | number): Port | undefined {
    const ports = this.list();
    if (typeof nameOrNo === 'number') return ports.find((p) => p.portNo === nameOrNo);
    return ports.find((p) => p.name === nameOrNo)
      ?? (/^\d+$/.test(nameOrNo) ? ports.find((p) => p.portNo === Number(nameOrNo)) : undefined);
  }

  /** Add a network device as a port and attach the program to it. Returns the port number
   *  (opts.portNo, or the lowest free one). */
  add(ifname: string, opts: { portNo?: number; internal?: boolean } = {}): number {
    const a = addon();
    const info = netdevInfo(ifname);
    const ports = this.list();
    const clash = ports.find((p) => p.ifindex === info.ifindex || p.name === info.name);
    if (clash) throw new DatapathError('PORT_EXISTS', `${ifname} is already port ${clash.portNo} of ${this.name}`);
    let portNo = opts.portNo;
    if (portNo !== undefined) {
      if (!Number.isInteger(portNo) || portNo < 1 || portNo > 0xfffffeff) {
        throw new DatapathError('PORT_NUMBER', `invalid port_no ${portNo}`);
      }
      if (ports.some((p) => p.portNo === portNo)) {
        throw new DatapathError('PORT_NUMBER', `port_no ${portNo} is already in use on ${this.name}`);
      }
    } else {
      const used = new Set(ports.map((p) => p.portNo));
      portNo = 1;
      while (used.has(portNo)) portNo++;
    }
    if (ports.length >= ABI.MAX_PORTS) throw new DatapathError('PORT_TABLE_FULL', `${this.name} has ${ABI.MAX_PORTS} ports already (its port table is full)`);
    const flags = (info.peerInOtherNetns && !opts.internal ? ABI.PORT_F_PEER : 0)
      | (opts.internal ? ABI.PORT_F_INTERNAL : 0);
    const k = u32(portNo);
    const undo: (() => void)[] = [];
    try {
      a.mapUpdate(this.fds.ports, k, encodePort({ ifindex: info.ifindex, flags, name: info.name }), BPF_NOEXIST);
      undo.push(() => a.mapDelete(this.fds.ports, k));
      a.mapUpdate(this.fds.ifindex_port, u32(info.ifindex), k, BPF_NOEXIST);
      undo.push(() => a.mapDelete(this.fds.ifindex_port, u32(info.ifindex)));
      a.mapUpdate(this.fds.port_stats, k, new Uint8Array(perCpuSize(LAYOUT.bvs_port_stats.size, this.nCpus)), BPF_ANY);
      undo.push(() => a.mapDelete(this.fds.port_stats, k));
      const link = a.tcxAttach(this.progFd, info.ifindex, !!opts.internal);
      try {
        a.objPin(link, linkPinPath(this.dir, portNo));
      } catch (err) {
        a.linkDetach(link);
        throw err;
      } finally {
        a.close(link);
      }
    } catch (err) {
      for (const f of undo.reverse()) { try { f(); } catch { /* best effort */ } }
      throw err;
    }
    return portNo;
  }

  /** Detach and remove a port. */
  del(nameOrNo: string | number): Port {
    const a = addon();
    const port = this.find(nameOrNo);
    if (!port) throw new DatapathError('NO_SUCH_PORT', `no port ${nameOrNo} on ${this.name}`);
    const pinPath = linkPinPath(this.dir, port.portNo);
    if (fs.existsSync(pinPath)) {
      detachPinnedLink(pinPath);
      removePins(pinPath);
    }
    a.mapDelete(this.fds.ifindex_port, u32(port.ifindex));
    a.mapDelete(this.fds.ports, u32(port.portNo));
    a.mapDelete(this.fds.port_stats, u32(port.portNo));
    return port;
  }

  stats(portNo: number): PortStats {
    const buf = new Uint8Array(perCpuSize(LAYOUT.bvs_port_stats.size, this.nCpus));
    const zero = { rxPackets: 0n, rxBytes: 0n, rxDropped: 0n, txPackets: 0n, txBytes: 0n, txDropped: 0n };
    if (!addon().mapLookup(this.fds.port_stats, u32(portNo), buf)) return zero;
    const s = sumPerCpu(buf, this.nCpus, LAYOUT.bvs_port_stats.members, LAYOUT.bvs_port_stats.size);
    return {
      rxPackets: s.rx_packets, rxBytes: s.rx_bytes, rxDropped: s.rx_dropped,
      txPackets: s.tx_packets, txBytes: s.tx_bytes, txDropped: s.tx_dropped,
    };
  }
}

# An os-ken application that exercises a switch's OpenFlow 1.3 features and records what comes
# back as JSON lines in $OSKEN_EVENTS: role request/reply ($OSKEN_ROLE master|slave|equal,
# generation $OSKEN_GEN), a flow with send_flow_rem and hard_timeout 1 (-> flow-removed), a
# packet-out of a marked frame to port $OSKEN_OUT_PORT, a group and a meter (-> their replies or
# errors), and every packet-in, port-status and error the switch sends.
import json
import os

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.ofproto import ofproto_v1_3

MARK_ETHERTYPE = 0x88b5


def record(event):
    with open(os.environ['OSKEN_EVENTS'], 'a') as f:
        f.write(json.dumps(event) + '\n')


class Exerciser(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        record({'event': 'features', 'datapath_id': '%016x' % ev.msg.datapath_id})
        role = {'master': ofp.OFPCR_ROLE_MASTER, 'slave': ofp.OFPCR_ROLE_SLAVE}.get(os.environ.get('OSKEN_ROLE', ''), ofp.OFPCR_ROLE_EQUAL)
        dp.send_msg(parser.OFPRoleRequest(dp, role, int(os.environ.get('OSKEN_GEN', '0'))))
        # Everything below changes the switch: a slave's attempt must come back as an error.
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)])]
        dp.send_msg(parser.OFPFlowMod(dp, priority=0, match=parser.OFPMatch(), instructions=inst))
        drop = parser.OFPMatch(eth_type=0x0800, ipv4_dst='10.254.254.254')
        dp.send_msg(parser.OFPFlowMod(dp, cookie=0x42, priority=10, match=drop, instructions=[], hard_timeout=1,
                                      flags=ofp.OFPFF_SEND_FLOW_REM))
        out_port = int(os.environ.get('OSKEN_OUT_PORT', '1'))
        frame = b'\xff' * 6 + b'\x02\x00\x00\x00\x00\x99' + MARK_ETHERTYPE.to_bytes(2, 'big') + b'bvs-packet-out' + b'\x00' * 32
        dp.send_msg(parser.OFPPacketOut(dp, buffer_id=ofp.OFP_NO_BUFFER, in_port=ofp.OFPP_CONTROLLER,
                                        actions=[parser.OFPActionOutput(out_port)], data=frame))
        buckets = [parser.OFPBucket(actions=[parser.OFPActionOutput(out_port)])]
        dp.send_msg(parser.OFPGroupMod(dp, ofp.OFPGC_ADD, ofp.OFPGT_ALL, 7, buckets))
        bands = [parser.OFPMeterBandDrop(rate=1000, burst_size=100)]
        dp.send_msg(parser.OFPMeterMod(dp, ofp.OFPMC_ADD, ofp.OFPMF_KBPS, 5, bands))
        dp.send_msg(parser.OFPBarrierRequest(dp))

    @set_ev_cls(ofp_event.EventOFPRoleReply, MAIN_DISPATCHER)
    def role_reply(self, ev):
        record({'event': 'role_reply', 'role': ev.msg.role, 'generation_id': ev.msg.generation_id})

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def barrier_reply(self, ev):
        dp = ev.msg.datapath
        record({'event': 'barrier_reply'})
        dp.send_msg(dp.ofproto_parser.OFPGroupDescStatsRequest(dp, 0))
        dp.send_msg(dp.ofproto_parser.OFPMeterConfigStatsRequest(dp, 0, dp.ofproto.OFPM_ALL))

    @set_ev_cls(ofp_event.EventOFPGroupDescStatsReply, MAIN_DISPATCHER)
    def group_desc(self, ev):
        record({'event': 'group_desc', 'groups': [g.group_id for g in ev.msg.body]})

    @set_ev_cls(ofp_event.EventOFPMeterConfigStatsReply, MAIN_DISPATCHER)
    def meter_config(self, ev):
        record({'event': 'meter_config', 'meters': [m.meter_id for m in ev.msg.body]})

    @set_ev_cls(ofp_event.EventOFPFlowRemoved, MAIN_DISPATCHER)
    def flow_removed(self, ev):
        m = ev.msg
        record({'event': 'flow_removed', 'cookie': m.cookie, 'reason': m.reason, 'priority': m.priority,
                'hard_timeout': m.hard_timeout})

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        m = ev.msg
        record({'event': 'packet_in', 'in_port': m.match['in_port'], 'reason': m.reason, 'table': m.table_id,
                'total_len': m.total_len, 'buffer_id': m.buffer_id})

    @set_ev_cls(ofp_event.EventOFPPortStatus, MAIN_DISPATCHER)
    def port_status(self, ev):
        m = ev.msg
        name = m.desc.name.decode() if isinstance(m.desc.name, bytes) else m.desc.name
        record({'event': 'port_status', 'reason': m.reason, 'port_no': m.desc.port_no, 'name': name, 'state': m.desc.state})

    @set_ev_cls(ofp_event.EventOFPErrorMsg, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def error(self, ev):
        m = ev.msg
        record({'event': 'error', 'type': m.type, 'code': m.code})

import type { StreamOwner } from '../../../libs/cluster/types.ts';
import {
  emptyLalSession,
  lalCodec,
  lalProtocol,
  lalTime,
  splitKey,
  type LalGroup,
  type LalSession,
} from '../../node/api/lal-shape.ts';
import { isPullProtocol } from '../../node/relay/source.ts';
import type { ClusterSession } from '../session-index.ts';

/** lal's StatSession plus the node that holds it. */
export type ClusterLalSession = LalSession & { node_id: string };

/** lal's StatGroup for the whole cluster: sessions carry `node_id`. */
export type ClusterLalGroup = Omit<LalGroup, 'pub' | 'subs' | 'pull'> & {
  pub: ClusterLalSession;
  subs: ClusterLalSession[];
  pull: ClusterLalSession;
};

/**
 * A session in lal's shape. The scheduler knows sessions from their events only: byte counts
 * and bitrates stay 0 (the node's own /api/stat has them).
 */
export function lalClusterSession(s: ClusterSession, baseType: string): ClusterLalSession {
  return {
    ...emptyLalSession(baseType),
    session_id: s.sessionId,
    protocol: lalProtocol(s.protocol),
    remote_addr: s.remote,
    start_time: lalTime(s.startedAt),
    node_id: s.nodeId,
  };
}

const none = (baseType: string): ClusterLalSession => ({ ...emptyLalSession(baseType), node_id: '' });

/**
 * One stream of the cluster as a lal group: media from its owner's claim, the owner's publisher
 * (or its relay pull) as pub (pull), and the players of every node (the edges' viewers) as subs.
 * Edge relays (kind relay) are the cluster's plumbing, not viewers: left out.
 */
export function clusterGroup(owner: StreamOwner, sessions: readonly ClusterSession[]): ClusterLalGroup {
  const { app, name } = splitKey(owner.key);
  let pub = none('PUB');
  let pull = none('PULL');
  const subs: ClusterLalSession[] = [];
  for (const s of sessions) {
    if (s.key !== owner.key) continue;
    if (s.kind === 'publisher') {
      if (s.nodeId !== owner.nodeId || s.instanceId !== owner.instanceId) continue;
      if (isPullProtocol(s.protocol)) pull = lalClusterSession(s, 'PULL');
      else pub = lalClusterSession(s, 'PUB');
    } else if (s.kind === 'player') {
      subs.push(lalClusterSession(s, 'SUB'));
    }
  }
  subs.sort((a, b) => (a.start_time < b.start_time ? -1 : a.start_time > b.start_time ? 1 : 0));
  const m = owner.media;
  return {
    stream_name: name,
    app_name: app,
    audio_codec: lalCodec(m.audioCodec),
    video_codec: lalCodec(m.videoCodec),
    video_width: m.width ?? 0,
    video_height: m.height ?? 0,
    pub,
    subs,
    pull,
    in_frame_per_sec: [],
  };
}

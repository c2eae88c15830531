/**
 * The RID types rid-lib (v3.2.16) ships, with its reference rules. Python nodes refuse RIDs these
 * rules refuse (422), so accepting more would let us emit RIDs they cannot read, and accepting
 * less would drop their knowledge.
 */
import { createHash, randomUUID } from 'node:crypto';
import { InvalidRIDError } from '../errors.ts';
import { RID, registerRIDType } from './rid.ts';
import type { RIDType } from './rid-type.ts';
import { normalizeUrlReference } from './url.ts';

/** A KOI-net node: `orn:koi-net.node:<name>+<hash>` (hash = uuid4, or sha256 of the public key). */
export class KoiNetNode extends RID {
  readonly name: string;
  readonly hash: string;

  constructor(type: RIDType, reference: string) {
    super(type, reference);
    const plus = reference.indexOf('+');
    this.name = reference.slice(0, plus);
    this.hash = reference.slice(plus + 1);
  }

  static override fromString(s: string): KoiNetNode {
    return super.fromString(s) as KoiNetNode;
  }

  static override of(x: RID | string): KoiNetNode {
    return super.of(x) as KoiNetNode;
  }

  /** A fresh node RID `orn:koi-net.node:<name>+<uuid4>` (the unsigned protocol's form). */
  static generate(name: string): KoiNetNode {
    if (typeof name !== 'string') throw new InvalidRIDError(name, 'node name must be a string');
    if (name.includes('+')) {
      throw new InvalidRIDError(name, "node name cannot contain '+': it separates the name from the hash");
    }
    return KoiNetNode.fromString(`orn:koi-net.node:${name}+${randomUUID()}`);
  }
}

/** A KOI-net edge: `orn:koi-net.edge:<id>`; any non-empty id is accepted. */
export class KoiNetEdge extends RID {
  static override fromString(s: string): KoiNetEdge {
    return super.fromString(s) as KoiNetEdge;
  }

  static override of(x: RID | string): KoiNetEdge {
    return super.of(x) as KoiNetEdge;
  }

  /**
   * `orn:koi-net.edge:<sha256 hex of source string + target string>`: the current reference's
   * rule. The RID travels inside the edge bundle, so peers never recompute it.
   */
  static generate(source: RID | string, target: RID | string): KoiNetEdge {
    const id = createHash('sha256').update(String(source) + String(target), 'utf8').digest('hex');
    return KoiNetEdge.fromString(`orn:koi-net.edge:${id}`);
  }
}

/** Python's `len(s.split(sep)) == n`. */
function hasParts(s: string, sep: string, n: number): boolean {
  let count = 1;
  for (let k = s.indexOf(sep); k >= 0; k = s.indexOf(sep, k + 1)) {
    if (++count > n) return false;
  }
  return count === n;
}

function parts(n: number, sep: string, what: string) {
  return (reference: string): string | undefined =>
    hasParts(reference, sep, n) ? undefined : `${what} reference must contain ${n === 2 ? 'two' : 'three'} '${sep}'-separated components: '${formatOf(what)}'`;
}

const FORMATS: Record<string, string> = {
  'KOI-net Node': '<name>+<hash>',
  'Slack Message': '<team_id>/<channel_id>/<ts>',
  'Slack Channel': '<team_id>/<channel_id>',
  'Slack User': '<team_id>/<user_id>',
  'Slack User Group': '<team_id>/<usergroup_id>',
  'Discord Message': '<channel_id>/<message_id>',
  'Google Drive Export': '<type>/<subtype>/<id>',
};
function formatOf(what: string): string {
  return FORMATS[what] ?? '';
}

/** `owner/repo` with both parts non-empty (Python `split('/', 1)`). */
function ownerRepoOk(s: string): boolean {
  const k = s.indexOf('/');
  return k > 0 && k < s.length - 1;
}

/** `<owner>/<repo>:<rest>`; returns [repoPart, rest] or undefined. */
function splitRepoRef(reference: string): [string, string] | undefined {
  const k = reference.indexOf(':');
  if (k < 0) return undefined;
  return [reference.slice(0, k), reference.slice(k + 1)];
}

// Python's int(): surrounding whitespace, a sign, '_' between digits.
const PY_INT = /^\s*([+-]?)(\d(?:_?\d)*)\s*$/;

/** GitHub issue and PR references carry `int(number)`, so `007` goes on the wire as `7`. */
function githubNumbered(label: string, numberName: string) {
  const usage = `${label} reference must be '<owner>/<repo_name>:<${numberName}>'`;
  return {
    validateReference(reference: string): string | undefined {
      const split = splitRepoRef(reference);
      if (split === undefined || !ownerRepoOk(split[0])) return usage;
      if (!PY_INT.test(split[1])) return `invalid ${numberName.replace('_', ' ')} in ${label} reference: ${JSON.stringify(split[1])}`;
      return undefined;
    },
    normalizeReference(reference: string): string {
      const [repo, num] = splitRepoRef(reference) as [string, string];
      const m = PY_INT.exec(num) as RegExpExecArray;
      const value = BigInt((m[1] ?? '') + (m[2] ?? '').replaceAll('_', ''));
      return `${repo}:${value.toString()}`;
    },
  };
}

/** Types whose reference is another RID (normalized.text, vector): the inner one is normalized too. */
const wrapsRid = { normalizeReference: (reference: string): string => RID.fromString(reference).toString() };

const urlType = { normalizeReference: normalizeUrlReference };

export const KOI_NET_NODE_TYPE: RIDType = registerRIDType('orn:koi-net.node', {
  validateReference: parts(2, '+', 'KOI-net Node'),
  ridClass: KoiNetNode,
});
export const KOI_NET_EDGE_TYPE: RIDType = registerRIDType('orn:koi-net.edge', { ridClass: KoiNetEdge });

registerRIDType('http', urlType);
registerRIDType('https', urlType);

registerRIDType('orn:slack.message', { validateReference: parts(3, '/', 'Slack Message') });
registerRIDType('orn:slack.channel', { validateReference: parts(2, '/', 'Slack Channel') });
registerRIDType('orn:slack.user', { validateReference: parts(2, '/', 'Slack User') });
registerRIDType('orn:slack.usergroup', { validateReference: parts(2, '/', 'Slack User Group') });
registerRIDType('orn:slack.workspace');

registerRIDType('orn:github.repo', {
  validateReference: (r) =>
    ownerRepoOk(r) ? undefined : "GithubRepo reference must contain two '/'-separated components: '<owner>/<repo_name>'",
});
registerRIDType('orn:github.commit', {
  validateReference(reference) {
    const split = splitRepoRef(reference);
    return split !== undefined && ownerRepoOk(split[0]) && split[1] !== ''
      ? undefined
      : "GitHubCommit reference must be '<owner>/<repo_name>:<commit_sha>'";
  },
});
registerRIDType('orn:github.issue', githubNumbered('GitHubIssue', 'issue_number'));
registerRIDType('orn:github.pr', githubNumbered('GitHubPullRequest', 'pr_number'));
registerRIDType('orn:github.event', {
  validateReference(reference) {
    const split = splitRepoRef(reference);
    if (split === undefined || !ownerRepoOk(split[0])) return "GitHubEvent reference must be '<owner>/<repo>:<event_id>'";
    if (split[1] === '') return 'GitHubEvent reference has an empty event id';
    return undefined;
  },
});

registerRIDType('orn:hackmd.note');
registerRIDType('orn:normalized.text', wrapsRid);
registerRIDType('orn:vector', wrapsRid);
registerRIDType('orn:func.query');
registerRIDType('orn:func.resp');
registerRIDType('orn:search.query');
registerRIDType('orn:search.response');

registerRIDType('orn:discord.guild');
registerRIDType('orn:discord.channel');
registerRIDType('orn:discord.message', { validateReference: parts(2, '/', 'Discord Message') });
registerRIDType('orn:discord.user');

registerRIDType('orn:google_drive.file');
registerRIDType('orn:google_drive.file.authors');
registerRIDType('orn:google_drive.export', { validateReference: parts(3, '/', 'Google Drive Export') });

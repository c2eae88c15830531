/**
 * The RID types rid-lib (v3.2.16) ships, with its reference rules. Python nodes refuse RIDs these
 * rules refuse (422), so accepting more would let us emit RIDs they cannot read, and accepting
 * less would drop their knowledge.
 */
import { createHash, randomUUID } from 'node:crypto';
import { InvalidRIDError } from "../errors.js";
import { RID, registerRIDType } from "./rid.js";
import { normalizeUrlReference } from "./url.js";
/** A KOI-net node: `orn:koi-net.node:<name>+<hash>` (hash = uuid4, or sha256 of the public key). */
export class KoiNetNode extends RID {
    name;
    hash;
    constructor(type, reference) {
        super(type, reference);
        const plus = reference.indexOf('+');
        this.name = reference.slice(0, plus);
        this.hash = reference.slice(plus + 1);
    }
    static fromString(s) {
        return super.fromString(s);
    }
    static of(x) {
        return super.of(x);
    }
    /** A fresh node RID `orn:koi-net.node:<name>+<uuid4>` (the unsigned protocol's form). */
    static generate(name) {
        if (typeof name !== 'string')
            throw new InvalidRIDError(name, 'node name must be a string');
        if (name.includes('+')) {
            throw new InvalidRIDError(name, "node name cannot contain '+': it separates the name from the hash");
        }
        return KoiNetNode.fromString(`orn:koi-net.node:${name}+${randomUUID()}`);
    }
}
/** A KOI-net edge: `orn:koi-net.edge:<id>`; any non-empty id is accepted. */
export class KoiNetEdge extends RID {
    static fromString(s) {
        return super.fromString(s);
    }
    static of(x) {
        return super.of(x);
    }
    /**
     * `orn:koi-net.edge:<sha256 hex of source string + target string>`: the current reference's
     * rule. The RID travels inside the edge bundle, so peers never recompute it.
     */
    static generate(source, target) {
        const id = createHash('sha256').update(String(source) + String(target), 'utf8').digest('hex');
        return KoiNetEdge.fromString(`orn:koi-net.edge:${id}`);
    }
}
/** Python's `len(s.split(sep)) == n`. */
function hasParts(s, sep, n) {
    let count = 1;
    for (let k = s.indexOf(sep); k >= 0; k = s.indexOf(sep, k + 1)) {
        if (++count > n)
            return false;
    }
    return count === n;
}
function parts(n, sep, what) {
    return (reference) => hasParts(reference, sep, n) ? undefined : `${what} reference must contain ${n === 2 ? 'two' : 'three'} '${sep}'-separated components: '${formatOf(what)}'`;
}
const FORMATS = {
    'KOI-net Node': '<name>+<hash>',
    'Slack Message': '<team_id>/<channel_id>/<ts>',
    'Slack Channel': '<team_id>/<channel_id>',
    'Slack User': '<team_id>/<user_id>',
    'Slack User Group': '<team_id>/<usergroup_id>',
    'Discord Message': '<channel_id>/<message_id>',
    'Google Drive Export': '<type>/<subtype>/<id>',
};
function formatOf(what) {
    return FORMATS[what] ?? '';
}
/** `owner/repo` with both parts non-empty (Python `split('/', 1)`). */
function ownerRepoOk(s) {
    const k = s.indexOf('/');
    return k > 0 && k < s.length - 1;
}
/** `<owner>/<repo>:<rest>`; returns [repoPart, rest] or undefined. */
function splitRepoRef(reference) {
    const k = reference.indexOf(':');
    if (k < 0)
        return undefined;
    return [reference.slice(0, k), reference.slice(k + 1)];
}
// Python's int(): surrounding whitespace, a sign, '_' between digits.
const PY_INT = /^\s*([+-]?)(\d(?:_?\d)*)\s*$/;
/** GitHub issue and PR references carry `int(number)`, so `007` goes on the wire as `7`. */
function githubNumbered(label, numberName) {
    const usage = `${label} reference must be '<owner>/<repo_name>:<${numberName}>'`;
    return {
        validateReference(reference) {
            const split = splitRepoRef(reference);
            if (split === undefined || !ownerRepoOk(split[0]))
                return usage;
            if (!PY_INT.test(split[1]))
                return `invalid ${numberName.replace('_', ' ')} in ${label} reference: ${JSON.stringify(split[1])}`;
            return undefined;
        },
        normalizeReference(reference) {
            const [repo, num] = splitRepoRef(reference);
            const m = PY_INT.exec(num);
            const value = BigInt((m[1] ?? '') + (m[2] ?? '').replaceAll('_', ''));
            return `${repo}:${value.toString()}`;
        },
    };
}
/** Types whose reference is another RID (normalized.text, vector): the inner one is normalized too. */
const wrapsRid = { normalizeReference: (reference) => RID.fromString(reference).toString() };
const urlType = { normalizeReference: normalizeUrlReference };
export const KOI_NET_NODE_TYPE = registerRIDType('orn:koi-net.node', {
    validateReference: parts(2, '+', 'KOI-net Node'),
    ridClass: KoiNetNode,
});
export const KOI_NET_EDGE_TYPE = registerRIDType('orn:koi-net.edge', { ridClass: KoiNetEdge });
registerRIDType('http', urlType);
registerRIDType('https', urlType);
registerRIDType('orn:slack.message', { validateReference: parts(3, '/', 'Slack Message') });
registerRIDType('orn:slack.channel', { validateReference: parts(2, '/', 'Slack Channel') });
registerRIDType('orn:slack.user', { validateReference: parts(2, '/', 'Slack User') });
registerRIDType('orn:slack.usergroup', { validateReference: parts(2, '/', 'Slack User Group') });
registerRIDType('orn:slack.workspace');
registerRIDType('orn:github.repo', {
    validateReference: (r) => ownerRepoOk(r) ? undefined : "GithubRepo reference must contain two '/'-separated components: '<owner>/<repo_name>'",
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
        if (split === undefined || !ownerRepoOk(split[0]))
            return "GitHubEvent reference must be '<owner>/<repo>:<event_id>'";
        if (split[1] === '')
            return 'GitHubEvent reference has an empty event id';
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
//# sourceMappingURL=types.js.map
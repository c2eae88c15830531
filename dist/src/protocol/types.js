export const NodeType = { FULL: 'FULL', PARTIAL: 'PARTIAL' };
export const EdgeType = { WEBHOOK: 'WEBHOOK', POLL: 'POLL' };
export const EdgeStatus = { PROPOSED: 'PROPOSED', APPROVED: 'APPROVED' };
//# sourceMappingURL=types.js.map
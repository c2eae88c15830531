export {};
//# sourceMappingURL=components.js.map
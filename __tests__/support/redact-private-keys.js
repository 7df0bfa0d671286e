// Jest snapshot serializer: golden snapshots keep their shape but never hold private key
// material, not even the clearly fake fixture keys they are rendered with. A PEM private key
// block in a snapshotted string becomes one placeholder line.
const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g;

module.exports = {
  test: (value) => typeof value === 'string' && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value),
  serialize: (value, config, indentation, depth, refs, printer) =>
    printer(value.replace(PEM_PRIVATE_KEY, '<private key of the fake fixture set, redacted in snapshots>'), config, indentation, depth, refs),
};

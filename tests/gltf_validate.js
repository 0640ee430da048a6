// Validates glTF files with the Khronos glTF-Validator; prints one JSON report per line.
// Usage: node tests/gltf_validate.js <validator module dir> file.glb [file.gltf ...]
// A .gltf's external buffers (.bin) are read from beside it.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [moduleDir, ...files] = process.argv.slice(2);
  const validator = require(path.resolve(moduleDir));
  for (const file of files) {
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(file)), {
      uri: path.basename(file),
      maxIssues: 0,
      externalResourceFunction: (uri) => new Promise((resolve, reject) => {
        fs.readFile(path.join(path.dirname(file), decodeURIComponent(uri)),
                    (err, data) => (err ? reject(err.toString()) : resolve(new Uint8Array(data))));
      }),
    });
    process.stdout.write(JSON.stringify({ file, report }) + '\n');
  }
}

main().catch((err) => { process.stderr.write(String(err) + '\n'); process.exit(1); });

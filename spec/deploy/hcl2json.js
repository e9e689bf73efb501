'use strict'
// Parses every *.tf file of a folder with the npm HCL parser and prints
// { "FILE.tf": <parsed>, ... } as JSON, for the deployment specs.
//   node hcl2json.js DIR
const fs = require('fs')
const path = require('path')
const { parse } = require(path.join(__dirname, '../servers/node_modules/@cdktf/hcl2json'))

async function main(dir) {
  const parsed = {}
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.tf')).sort()) {
    parsed[name] = await parse(name, fs.readFileSync(path.join(dir, name), 'utf8'))
  }
  process.stdout.write(JSON.stringify(parsed) + '\n')
}

main(process.argv[2]).catch((e) => {
  process.stderr.write(`hcl2json.js: ${e.message}\n`)
  process.exit(1)
})

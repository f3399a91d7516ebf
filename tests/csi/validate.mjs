// validate.mjs — check Kubernetes objects against the API schemas of the
// kubernetes-models package (the Kubernetes OpenAPI definitions compiled to
// JSON-schema validators).
//
//   node validate.mjs OBJECTS.json
//
// OBJECTS.json holds a JSON array of objects. One line per object on stdout:
//   ok<TAB>index
//   fail<TAB>index<TAB>what the schema rejects
//   unknown<TAB>index<TAB>apiVersion kind   (no model, e.g. a CRD)
// Exit status 0 when every line was printed (failures are data, not errors).
import { readFileSync } from 'node:fs';

const objects = JSON.parse(readFileSync(process.argv[2], 'utf8'));

for (const [index, object] of objects.entries()) {
  const apiVersion = String(object.apiVersion ?? '');
  const kind = String(object.kind ?? '');
  let Model;
  try {
    const module = await import(`kubernetes-models/${apiVersion}/${kind}`);
    Model = module[kind];
  } catch {
    Model = undefined;
  }
  if (typeof Model !== 'function' || !/^[A-Za-z0-9]+$/.test(kind)) {
    console.log(`unknown\t${index}\t${apiVersion} ${kind}`);
    continue;
  }
  try {
    new Model(object).validate();
    console.log(`ok\t${index}`);
  } catch (error) {
    console.log(`fail\t${index}\t${String(error.message).replace(/\s+/g, ' ')}`);
  }
}

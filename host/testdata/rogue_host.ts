/**
 * A step host that answers `init` with the `hello` its init data asks for
 * (`{ hello: {...} }` is merged over a correct one), to test what the
 * engine accepts.
 */

import { PROTOCOL_VERSION } from "../protocol.ts";

const scope = self as unknown as Worker;
scope.onmessage = ({ data }) => {
  if (data?.type !== "init") return;
  const { hello = {}, offer = {} } = data.init ?? {};
  scope.postMessage({
    type: "hello",
    protocol: PROTOCOL_VERSION,
    host: { pid: 1 },
    ...hello,
    offer: { languages: ["fake"], grants: data.grants, forbidden: [], ...offer },
  });
};

// Initiates the `rs0` replica set and creates the commsintel application user.
// Run once by the `mongo-init` service in deploy/compose.yaml, connected directly to
// mongo1; safe to re-run (it skips what is already done and re-applies the user's
// password and roles from the environment).
//
// Environment: MONGO_ROOT_USERNAME, MONGO_ROOT_PASSWORD (created on mongo1 by the
// image's first start), COMMSINTEL_MONGO_USER, COMMSINTEL_MONGO_PASSWORD.

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const admin = db.getSiblingDB("admin");
admin.auth(env("MONGO_ROOT_USERNAME"), env("MONGO_ROOT_PASSWORD"));

let initiated = true;
try {
  rs.status();
} catch (error) {
  if (error.codeName !== "NotYetInitialized") throw error;
  initiated = false;
}

if (!initiated) {
  // mongo1 gets a higher priority so that it is the usual primary; any member can
  // take over when it is down.
  rs.initiate({
    _id: "rs0",
    members: [
      { _id: 0, host: "mongo1:27017", priority: 2 },
      { _id: 1, host: "mongo2:27017", priority: 1 },
      { _id: 2, host: "mongo3:27017", priority: 1 },
    ],
  });
  print("mongo-init: replica set rs0 initiated");
}

// Users can only be written on the primary.
for (let waited = 0; !admin.hello().isWritablePrimary; waited++) {
  if (waited >= 120) throw new Error("mongo1 did not become primary within 120s");
  sleep(1000);
}

// Least privilege: read/write on the four service databases only (the defaults of
// COMMSINTEL_<SERVICE>_MONGO_DATABASE). Add a role here if a database is renamed.
const user = env("COMMSINTEL_MONGO_USER");
const roles = [
  "commsintel_ingest",
  "commsintel_identity",
  "commsintel_intelligence",
  "commsintel_access",
].map((name) => ({ role: "readWrite", db: name }));

if (admin.getUser(user) === null) {
  admin.createUser(
    { user, pwd: env("COMMSINTEL_MONGO_PASSWORD"), roles },
    { w: "majority" },
  );
  print(`mongo-init: user ${user} created`);
} else {
  admin.updateUser(
    user,
    { pwd: env("COMMSINTEL_MONGO_PASSWORD"), roles },
    { w: "majority" },
  );
  print(`mongo-init: user ${user} updated`);
}

print("mongo-init: replica set ready");

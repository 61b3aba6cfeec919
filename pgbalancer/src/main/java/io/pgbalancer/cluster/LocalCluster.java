// purpose: a real PostgreSQL primary + N streaming replicas on loopback, for the demo command, integration tests and benchmarks
package io.pgbalancer.cluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Usage: {@code try (LocalCluster c = LocalCluster.builder().replicas(2).user("app", "secret", "scram-sha-256").start()) {...}}.
 * Layout of the data dir: {@code primary/}, {@code replica0/}, {@code replica1/}… (each a PGDATA with its own
 * {@code server.log}), {@code cluster.properties} (ports, for reuse) and {@code cluster.env} (for shell scripts).
 * Superuser {@code postgres} connects over 127.0.0.1 without a password. Replica indexes are 0-based.
 */
public final class LocalCluster implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STREAMING_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration REPLAY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final int START_ATTEMPTS = 5;

    private final Path base;
    private final boolean ownsBase;
    private final PgBinaries binaries;
    private final PgProcessRunner runner;
    private final Consumer<String> log;
    private final List<ServerConfig.UserSpec> users;
    private final List<String> databases;
    private final Map<String, String> settings;
    private final Map<String, String> dataFiles;
    private final ClusterProvisioner provisioner;
    private final PgServer primary;
    private final List<PgServer> replicas = new ArrayList<>();
    private ShutdownGuard guard;
    private boolean closed;

    public static Builder builder() {
        return new Builder();
    }

    private LocalCluster(Builder b) { // only resolves binaries, dirs and ports; boot() does the work
        this.log = b.log;
        this.binaries = b.binaries != null ? b.binaries : PgBinaries.locate();
        this.runner = PgProcessRunner.create(log);
        this.users = List.copyOf(b.users);
        this.databases = List.copyOf(b.databases);
        this.settings = Map.copyOf(b.settings);
        this.dataFiles = Map.copyOf(b.dataFiles);
        this.provisioner = new ClusterProvisioner(log);
        this.ownsBase = b.dataDir == null;
        this.base = ownsBase ? ClusterFiles.createTempBase() : b.dataDir.toAbsolutePath().normalize();
        var state = ClusterFiles.holdsCluster(base) ? ClusterFiles.read(base) : java.util.Optional.<ClusterFiles.State>empty();
        int replicaCount = Math.max(b.replicas, state.map(s -> s.replicaPorts().size()).orElse(0));
        this.primary = new PgServer("primary", ClusterFiles.primaryDir(base),
                state.map(ClusterFiles.State::primaryPort).orElseGet(FreePorts::pick), binaries, runner, log);
        for (int i = 0; i < replicaCount; i++) {
            int port = state.isPresent() && i < state.get().replicaPorts().size() ? state.get().replicaPorts().get(i) : FreePorts.pick();
            replicas.add(new PgServer("replica" + i, ClusterFiles.replicaDir(base, i), port, binaries, runner, log));
        }
    }

    private void boot() {
        ClusterFiles.createDirs(base);
        runner.requireTraversable(base);
        guard = new ShutdownGuard(base, ownsBase, this::closeFromHook, log);
        log.accept("PostgreSQL " + binaries.version() + " from " + binaries.binDir() + " (" + binaries.source()
                + "), running as " + runner.describeUser() + ", cluster dir " + base);
        if (primary.initialized()) {
            String dataVersion = primary.dataVersion();
            if (!dataVersion.equals(Integer.toString(binaries.majorVersion()))) {
                throw new ClusterException("cluster in " + base + " was created by PostgreSQL " + dataVersion
                        + " but the binaries are " + binaries.version() + " (" + binaries.binDir() + ")");
            }
            log.accept("reusing existing cluster in " + base);
        } else {
            primary.initdb();
        }
        startServer(primary);
        provisioner.provision(primary, users, databases);
        ReplicaCloner cloner = new ReplicaCloner(binaries, runner, log);
        for (PgServer replica : replicas) {
            if (!replica.initialized()) {
                cloner.cloneInto(primary, replica);
            }
            startServer(replica);
            provisioner.awaitStreaming(primary, replica, STREAMING_TIMEOUT);
        }
        saveState();
        provisioner.awaitReplay(primary, replicas, REPLAY_TIMEOUT);
        log.accept("cluster ready: primary " + primaryPort() + ", replicas " + replicaPorts());
    }

    /** Writes config for the server's current ports, starts it (moving to a new port on a bind conflict) and waits. */
    private void startServer(PgServer server) {
        for (int attempt = 1; ; attempt++) {
            Map<String, String> conf = ServerConfig.settings(server.port(), settings);
            if (server != primary) {
                conf = ServerConfig.standby(conf, primary.port(), server.name());
            }
            server.writeConfig(conf);
            server.writeHba(ServerConfig.hba(users));
            dataFiles.forEach((name, content) -> server.writeOwned(server.dir().resolve(name), content));
            if (server.start() == PgServer.StartResult.STARTED) {
                break;
            }
            if (attempt >= START_ATTEMPTS) {
                throw ClusterException.step(server.name() + ": no free port after " + attempt + " attempts", server.logFile(), null);
            }
            server.port(FreePorts.pick());
        }
        server.awaitConnectable(READY_TIMEOUT);
    }

    private void saveState() {
        ClusterFiles.write(base, new ClusterFiles.State(primary.port(), replicaPorts(), binaries.version(),
                binaries.binDir().toString()));
    }

    public int primaryPort() {
        return primary.port();
    }

    /** Ports of the replicas, by 0-based index. */
    public synchronized List<Integer> replicaPorts() {
        List<Integer> ports = new ArrayList<>();
        replicas.forEach(r -> ports.add(r.port()));
        return Collections.unmodifiableList(ports);
    }

    public String host() {
        return PgJdbc.HOST;
    }

    /** The superuser, which may connect from 127.0.0.1 without a password. */
    public String superuser() {
        return PgJdbc.SUPERUSER;
    }

    public PgBinaries binaries() {
        return binaries;
    }

    /** The cluster directory (holds primary/, replicaN/, cluster.properties, cluster.env). */
    public Path dataDir() {
        return base;
    }

    /** The {@code server.log} of the primary (index -1) or of a replica. */
    public Path serverLog(int replicaIndex) {
        return replicaIndex < 0 ? primary.logFile() : replica(replicaIndex).logFile();
    }

    public String jdbcUrl(int port, String database) {
        return PgJdbc.url(port, database);
    }

    /** Fast shutdown of the primary (the replicas keep running, in recovery, until one is promoted). */
    public synchronized void stopPrimary() {
        if (closed) {
            throw new IllegalStateException("cluster is closed");
        }
        primary.stop(STOP_TIMEOUT);
    }

    /**
     * Restarts the primary on its port, as {@code pg_ctl restart -m fast} does: a fast shutdown (running transactions
     * are rolled back, clients get FATAL 57P01), then a start; returns once it accepts connections. The replicas
     * reconnect to it by themselves.
     */
    public synchronized void restartPrimary() {
        if (closed) {
            throw new IllegalStateException("cluster is closed");
        }
        int port = primary.port();
        primary.stop(STOP_TIMEOUT);
        startServer(primary);
        if (primary.port() != port) {
            throw new ClusterException("primary: port " + port + " was taken while it restarted; it now listens on "
                    + primary.port());
        }
    }

    /**
     * Promotes a replica (0-based index) to a primary and waits until it leaves recovery. The cluster's own notion of
     * its primary does not change: this is for failover tests on a cluster of their own.
     */
    public synchronized void promoteReplica(int index) {
        replica(index).promote();
    }

    /** Fast shutdown of one replica (0-based index). */
    public synchronized void stopReplica(int index) {
        replica(index).stop(STOP_TIMEOUT);
    }

    /**
     * SIGKILL to one replica's postmaster (0-based index): a crash, no shutdown. Returns once it and its children
     * are gone; {@link #startReplica(int)} brings it back (with crash recovery).
     */
    public synchronized void killReplica(int index) {
        replica(index).kill(STOP_TIMEOUT);
    }

    /** Starts a stopped (or killed) replica again and waits until it streams; it may move to a new port if its old one was taken. */
    public synchronized void startReplica(int index) {
        PgServer r = replica(index);
        int before = r.port();
        startServer(r);
        provisioner.awaitStreaming(primary, r, STREAMING_TIMEOUT);
        if (r.port() != before) {
            saveState();
        }
    }

    private PgServer replica(int index) {
        if (closed) {
            throw new IllegalStateException("cluster is closed");
        }
        Objects.checkIndex(index, replicas.size());
        return replicas.get(index);
    }

    /** Stops all servers (pg_ctl stop -m fast) and deletes the data dir if it was a temp dir created here. */
    @Override
    public void close() {
        shutdown(false);
    }

    private void closeFromHook() {
        shutdown(true);
    }

    private synchronized void shutdown(boolean fromHook) {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        List<PgServer> order = new ArrayList<>(replicas);
        Collections.reverse(order);
        order.add(primary);
        for (PgServer s : order) {
            try {
                s.stop(fromHook ? Duration.ofSeconds(10) : STOP_TIMEOUT);
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (guard != null) {
            guard.close();
        }
        if (ownsBase && failure == null) {
            try {
                ClusterFiles.deleteRecursively(base);
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        log.accept("cluster stopped" + (ownsBase ? " and " + base + " deleted" : "; data kept in " + base));
        if (failure != null && !fromHook) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "LocalCluster[primary=" + primaryPort() + ", replicas=" + replicaPorts() + ", dir=" + base + "]";
    }

    /** Configures and starts a {@link LocalCluster}. */
    public static final class Builder {
        private int replicas = 2;
        private Path dataDir;
        private final List<ServerConfig.UserSpec> users = new ArrayList<>();
        private final List<String> databases = new ArrayList<>();
        private final Map<String, String> settings = new LinkedHashMap<>();
        private final Map<String, String> dataFiles = new LinkedHashMap<>();
        private Consumer<String> log = line -> { };
        private PgBinaries binaries;

        private Builder() {
        }

        /** Number of streaming replicas (default 2). A reused data dir keeps at least the replicas it already has. */
        public Builder replicas(int n) {
            if (n < 0 || n > 16) {
                throw new IllegalArgumentException("replicas must be between 0 and 16: " + n);
            }
            this.replicas = n;
            return this;
        }

        /** Keep the cluster in this dir (not deleted on close; started again if it already holds one). */
        public Builder dataDir(Path dir) {
            this.dataDir = Objects.requireNonNull(dir);
            return this;
        }

        /** A LOGIN role plus a {@code host all <name> 127.0.0.1/32 <hbaMethod>} line; method: scram-sha-256|md5|password|trust. */
        public Builder user(String name, String password, String hbaMethod) {
            ServerConfig.UserSpec u = new ServerConfig.UserSpec(name, password, hbaMethod);
            users.removeIf(existing -> existing.name().equals(name));
            users.add(u);
            return this;
        }

        /** An extra database, owned by the first user (or postgres if there is none). */
        public Builder database(String name) {
            PgJdbc.checkName("database", name);
            if (!databases.contains(name)) {
                databases.add(name);
            }
            return this;
        }

        /** An extra postgresql.conf setting for every server; the value is quoted for you. */
        public Builder setting(String key, String value) {
            settings.put(ServerConfig.checkSettingName(key), Objects.requireNonNull(value));
            return this;
        }

        /**
         * A file written into every server's data directory before each start, owned by the server user with mode
         * 0600 (e.g. a TLS certificate and key, named by {@code ssl_cert_file = 'server.crt'} relative to it).
         */
        public Builder dataFile(String name, String content) {
            if (!name.matches("[A-Za-z0-9_.-]+")) {
                throw new IllegalArgumentException("a data file name is one plain file name: " + name);
            }
            dataFiles.put(name, Objects.requireNonNull(content));
            return this;
        }

        /** Receives progress lines. */
        public Builder log(Consumer<String> sink) {
            this.log = Objects.requireNonNull(sink);
            return this;
        }

        /** Use these binaries instead of {@link PgBinaries#locate()}. */
        public Builder binaries(PgBinaries b) {
            this.binaries = Objects.requireNonNull(b);
            return this;
        }

        /** Starts everything; returns once all replicas stream and have replayed the setup. */
        public LocalCluster start() {
            LocalCluster cluster = new LocalCluster(this);
            try {
                cluster.boot();
                return cluster;
            } catch (RuntimeException e) {
                try {
                    cluster.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }
}

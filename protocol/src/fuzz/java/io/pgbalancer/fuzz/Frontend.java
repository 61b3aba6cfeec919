// purpose: generators of client (frontend) messages: valid ones, corrupted ones, streams of them and startup packets
package io.pgbalancer.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Valid messages of every frontend type, built from small vocabularies (statement and portal names, SQL that the
 * proxy itself looks at: transaction control, SET, pgbalancer.* statements, hints, COPY, admin commands), so that
 * corrupted variants reach deep into the parsers instead of failing at the first byte.
 */
public final class Frontend {
    public static final int PROTOCOL_3_0 = 196608;
    public static final int PROTOCOL_3_2 = 196610;
    public static final int SSL_REQUEST = 80877103;
    public static final int GSSENC_REQUEST = 80877104;
    public static final int CANCEL_REQUEST = 80877102;

    /** SQL the proxy classifies, answers itself or routes differently; the admin console's commands too. */
    public static final List<String> SQL = List.of(
            "SELECT 1", "select * from t where a = $1", "SELECT 1; SELECT 2", "", " ", ";", ";;", "-- only a comment",
            "/* unterminated", "SELECT 'unterminated", "SELECT $$dollar", "SELECT $a$ x $b$", "SELECT \"quoted",
            "SELECT E'\\x'", "SELECT U&'\\0041'", "SELECT 0x1F, 1e-3, .5", "BEGIN", "BEGIN READ ONLY", "BEGIN; SELECT 1",
            "START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY", "COMMIT", "COMMIT AND CHAIN", "ROLLBACK", "END",
            "ABORT", "SAVEPOINT s", "RELEASE SAVEPOINT s", "ROLLBACK TO s", "PREPARE TRANSACTION 'x'",
            "INSERT INTO t VALUES (1)", "UPDATE t SET a = 1", "DELETE FROM t", "WITH x AS (DELETE FROM t) SELECT 1",
            "SELECT nextval('s')", "SELECT pg_advisory_lock(1)", "SELECT pg_advisory_xact_lock(1)", "LISTEN ch",
            "NOTIFY ch", "UNLISTEN *", "CREATE TEMP TABLE x (a int)", "SET search_path TO x", "SET work_mem = '1MB'",
            "SET LOCAL work_mem = '1MB'", "SET TIME ZONE 'UTC'", "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
            "SET default_transaction_read_only = on", "SET TRANSACTION READ ONLY", "RESET ALL", "RESET work_mem",
            "DISCARD ALL", "DISCARD PLANS", "SET SESSION AUTHORIZATION bob", "SET ROLE admin", "RESET ROLE",
            "SELECT set_config('a.b', 'c', false)", "PREPARE p AS SELECT 1", "EXECUTE p", "DEALLOCATE ALL",
            "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "FETCH c", "CLOSE c", "VACUUM", "COPY t FROM STDIN",
            "COPY t TO STDOUT", "/* x */ COPY t FROM STDIN", "SELECT 1 FOR UPDATE", "LOCK TABLE t",
            "SHOW pgbalancer.commit_lsn", "SHOW pgbalancer.min_lsn", "SHOW pgbalancer.max_staleness", "SHOW PGBALANCER.MIN_LSN",
            "SET pgbalancer.min_lsn = '0/16B3748'", "SET pgbalancer.min_lsn TO DEFAULT", "SET pgbalancer.min_lsn = 'x'",
            "SET pgbalancer.max_staleness = '5s'", "SET pgbalancer.max_staleness TO -1", "SET pgbalancer.max_staleness = 1e99",
            "RESET pgbalancer.max_staleness", "RESET pgbalancer.commit_lsn", "SET LOCAL pgbalancer.max_staleness TO 1",
            "SET pgbalancer.unknown = 1", "SHOW pgbalancer.x", "SHOW pgbalancer.min_lsn; SELECT 1", "SET \"pgbalancer\".min_lsn = '0/0'",
            "/* pgbalancer: replica */ SELECT 1", "/* pgbalancer: primary */ SELECT 1",
            "/*pgbalancer:max_staleness=500ms*/ SELECT 1", "/* pgbalancer: max_staleness = 99999999999999d */ SELECT 1",
            "/* pgbalancer: max_staleness=-1 */ select 1", "-- pgbalancer: replica\nSELECT 1",
            "SHOW POOLS", "SHOW SERVERS", "SHOW CLIENTS", "SHOW BACKENDS", "SHOW STATS", "SHOW CONFIG", "SHOW VERSION",
            "SHOW HELP", "show help; show version", "SHOW", "SHOW A B", "BAN", "BAN nosuchhost:1", "UNBAN 10.9.9.9:5432",
            "RESUME", "RESUME \"other\"", "HELP");

    /** Characters that end or start quotes, comments, dollar quotes and statements. */
    private static final String PUNCTUATION = "'\";$/*-\\ \n";

    /** Statement and portal names: unnamed, usual, pgjdbc's, the proxy's own prefix, odd bytes. */
    public static final List<String> NAMES = List.of("", "", "s1", "s2", "S_1", "p", "pgbalancer_1", "x y", "é",
            "a".repeat(70));

    private Frontend() {
    }

    /** Text bytes: mostly from the vocabulary, sometimes random, sometimes with bad UTF-8 or a NUL inside. */
    public static byte[] text(SplittableRandom r, List<String> vocabulary) {
        byte[] b = switch (r.nextInt(10)) {
            case 0 -> randomText(r);
            case 1 -> (pick(r, vocabulary) + pick(r, vocabulary)).getBytes(StandardCharsets.UTF_8);
            default -> pick(r, vocabulary).getBytes(StandardCharsets.UTF_8);
        };
        if (r.nextInt(12) == 0) {
            b = Mutate.insert(b, r.nextInt(b.length + 1), Mutate.BAD_UTF8[r.nextInt(Mutate.BAD_UTF8.length)]);
        }
        return b;
    }

    static byte[] randomText(SplittableRandom r) {
        int n = r.nextInt(24);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            s.append(switch (r.nextInt(6)) {
                case 0 -> (char) r.nextInt(0x20, 0x7F);
                case 1 -> PUNCTUATION.charAt(r.nextInt(PUNCTUATION.length()));
                case 2 -> (char) r.nextInt(0x80, 0x800);
                case 3 -> new String(Character.toChars(r.nextInt(0x10000, 0x110000)));
                case 4 -> (char) r.nextInt(1, 0x20);
                default -> (char) r.nextInt('a', 'z' + 1);
            });
        }
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static <T> T pick(SplittableRandom r, List<T> options) {
        return options.get(r.nextInt(options.size()));
    }

    public static byte[] name(SplittableRandom r) {
        return r.nextInt(16) == 0 ? randomText(r) : pick(r, NAMES).getBytes(StandardCharsets.UTF_8);
    }

    // ---- the messages

    public static Msg query(SplittableRandom r) {
        return Msg.typed('Q').cstr(text(r, SQL)).done();
    }

    public static Msg query(String sql) {
        return Msg.typed('Q').cstr(sql).done();
    }

    public static Msg parse(SplittableRandom r) {
        Msg.Writer w = Msg.typed('P').cstr(name(r)).cstr(text(r, SQL));
        int n = r.nextInt(8) == 0 ? r.nextInt(5) : 0;
        w.count(n);
        for (int i = 0; i < n; i++) {
            w.int32(pickInt(r, 0, 23, 25, 705, -1));
        }
        return w.done();
    }

    public static Msg bind(SplittableRandom r) {
        Msg.Writer w = Msg.typed('B').cstr(name(r)).cstr(name(r));
        int formats = r.nextInt(3);
        w.count(formats);
        for (int i = 0; i < formats; i++) {
            w.int16(pickInt(r, 0, 1, 2, -1));
        }
        int params = r.nextInt(4);
        w.count(params);
        for (int i = 0; i < params; i++) {
            if (r.nextInt(4) == 0) {
                w.lengthField(-1); // NULL
            } else {
                byte[] v = text(r, List.of("1", "abc", "0/16B3748", "", "500ms"));
                w.lengthField(v.length).raw(v);
            }
        }
        int results = r.nextInt(3);
        w.count(results);
        for (int i = 0; i < results; i++) {
            w.int16(pickInt(r, 0, 1, 7));
        }
        return w.done();
    }

    public static Msg describe(SplittableRandom r) {
        return Msg.typed('D').raw((byte) (r.nextBoolean() ? 'S' : r.nextInt(8) == 0 ? 'X' : 'P')).cstr(name(r)).done();
    }

    public static Msg close(SplittableRandom r) {
        return Msg.typed('C').raw((byte) (r.nextBoolean() ? 'S' : r.nextInt(8) == 0 ? 'Z' : 'P')).cstr(name(r)).done();
    }

    public static Msg execute(SplittableRandom r) {
        return Msg.typed('E').cstr(name(r)).int32(pickInt(r, 0, 0, 1, 2, -1, Integer.MAX_VALUE)).done();
    }

    public static Msg functionCall(SplittableRandom r) {
        Msg.Writer w = Msg.typed('F').int32(pickInt(r, 1598, 0, -1));
        int formats = r.nextInt(2);
        w.count(formats);
        for (int i = 0; i < formats; i++) {
            w.int16(0);
        }
        int args = r.nextInt(3);
        w.count(args);
        for (int i = 0; i < args; i++) {
            w.lengthField(4).int32(r.nextInt());
        }
        return w.int16(0).done();
    }

    public static Msg simple(char type) {
        return Msg.typed(type).done();
    }

    public static Msg copyData(SplittableRandom r) {
        return Msg.typed('d').raw(Mutate.random(r, r.nextInt(16))).done();
    }

    public static Msg copyFail(SplittableRandom r) {
        return Msg.typed('f').cstr(text(r, List.of("oops", ""))).done();
    }

    /** PasswordMessage: a cleartext or md5 response, a C string. */
    public static Msg password(String response) {
        return Msg.typed('p').cstr(response).done();
    }

    public static Msg saslInitial(String mechanism, byte[] data) {
        return Msg.typed('p').cstr(mechanism).lengthField(data.length).raw(data).done();
    }

    public static Msg saslResponse(byte[] data) {
        return Msg.typed('p').raw(data).done();
    }

    /** A message of a type no frontend sends (or the wrong phase's: 'p' after login). */
    public static Msg unknown(SplittableRandom r) {
        char type = (char) pickInt(r, 'p', 'Z', 'A', 0, 0xFF, 'q', 'x', 'G', 'R', 'K', 'v');
        return Msg.typed(type).raw(Mutate.random(r, r.nextInt(8))).done();
    }

    /** Any one frontend message, weighted towards the extended protocol. */
    public static Msg message(SplittableRandom r) {
        return switch (r.nextInt(22)) {
            case 0, 1, 2 -> query(r);
            case 3, 4, 5 -> parse(r);
            case 6, 7, 8 -> bind(r);
            case 9, 10 -> describe(r);
            case 11, 12 -> execute(r);
            case 13 -> close(r);
            case 14, 15, 16 -> simple('S');
            case 17 -> simple('H');
            case 18 -> r.nextBoolean() ? copyData(r) : r.nextBoolean() ? simple('c') : copyFail(r);
            case 19 -> functionCall(r);
            case 20 -> r.nextInt(4) == 0 ? simple('X') : unknown(r);
            default -> pipeline(r);
        };
    }

    /** A typical extended-protocol cycle: Parse, Bind, Describe, Execute, Sync (as one message group). */
    public static Msg pipeline(SplittableRandom r) {
        byte[] name = name(r);
        List<Msg> parts = new ArrayList<>();
        parts.add(Msg.typed('P').cstr(name).cstr(text(r, SQL)).count(0).done());
        parts.add(Msg.typed('B').cstr("").cstr(name).count(0).count(0).count(0).done());
        if (r.nextBoolean()) {
            parts.add(Msg.typed('D').raw((byte) 'P').cstr("").done());
        }
        parts.add(Msg.typed('E').cstr("").int32(0).done());
        parts.add(simple('S'));
        return Msg.concat(parts);
    }

    /**
     * {@code n} messages, each corrupted with probability {@code corrupt}, concatenated; corrupted messages keep
     * their own bytes only, so a bad length desynchronises the rest of the stream as it would on the wire.
     */
    public static byte[] stream(SplittableRandom r, int n, double corrupt) {
        List<Msg> parts = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Msg m = message(r);
            parts.add(r.nextDouble() < corrupt ? Msg.raw(Mutate.mutate(r, m)) : m);
        }
        return Msg.concat(parts).bytes();
    }

    // ---- startup packets

    /** A StartupMessage with these parameters (each given as name, value; a null value omits it). */
    public static Msg startup(int code, String... nameValues) {
        Msg.Writer w = Msg.untyped().int32(code);
        for (int i = 0; i + 1 < nameValues.length; i += 2) {
            if (nameValues[i + 1] != null) {
                w.cstr(nameValues[i]).cstr(nameValues[i + 1]);
            }
        }
        return w.raw((byte) 0).done();
    }

    /** A StartupMessage with a random mix of the parameters clients send; {@code user} may be null (left out). */
    public static Msg startup(SplittableRandom r, String user, String database) {
        Msg.Writer w = Msg.untyped().int32(r.nextInt(10) == 0 ? pickInt(r, PROTOCOL_3_2, 0x3FFFF, 0x20000, 0x40000)
                : PROTOCOL_3_0);
        if (user != null) {
            w.cstr("user").cstr(user);
        }
        if (database != null) {
            w.cstr("database").cstr(database);
        }
        if (r.nextInt(3) == 0) {
            w.cstr("application_name").cstr(text(r, List.of("psql", "", "pgbench")));
        }
        if (r.nextInt(4) == 0) {
            w.cstr("options").cstr(text(r, List.of("-c search_path=x", "--work_mem=64kB", "-c", "-cfoo",
                    "-c a\\ b=c", "-c default_transaction_read_only=on", "x", "--=", "-c =v")));
        }
        if (r.nextInt(6) == 0) {
            w.cstr(pick(r, List.of("DateStyle", "client_encoding", "_pq_.compression", "replication", "TimeZone",
                    "extra_float_digits"))).cstr(pick(r, List.of("ISO, MDY", "UTF8", "on", "false", "database", "2")));
        }
        if (r.nextInt(10) == 0) {
            w.cstr(name(r)).cstr(name(r)); // any parameter
        }
        return w.raw((byte) 0).done();
    }

    public static Msg sslRequest() {
        return Msg.untyped().int32(SSL_REQUEST).done();
    }

    public static Msg cancelRequest(int pid, int secret) {
        return Msg.untyped().int32(CANCEL_REQUEST).int32(pid).int32(secret).done();
    }

    static int pickInt(SplittableRandom r, int... options) {
        return options[r.nextInt(options.length)];
    }
}

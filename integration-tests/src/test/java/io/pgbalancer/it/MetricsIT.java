// The /metrics endpoint reports clients, per-server transactions, pools and read retries as Prometheus text.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MetricsIT {
    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static double value(String text, String regex) {
        Matcher m = Pattern.compile("^" + regex + " ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(text);
        double sum = 0;
        boolean found = false;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
            found = true;
        }
        assertTrue(found, "no sample matching " + regex + " in:\n" + text);
        return sum;
    }

    @Test
    void countsClientsTransactionsPerServerAndReadRetries() throws Exception {
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            st.execute("create table if not exists metrics_log(x int); grant all on metrics_log to app;"
                    + " create or replace function metrics_write() returns int language sql as"
                    + " $$ insert into metrics_log values (1) returning x $$;"
                    + " grant execute on function metrics_write() to app");
        }
        Replication.awaitReplicasCaughtUp(Duration.ofSeconds(30)); // the replicas must know metrics_write
        int metricsPort = TestProxy.freePort();
        try (TestProxy proxy = TestProxy.startWithReplicas("metrics: {host: 127.0.0.1, port: " + metricsPort + "}\n");
             Connection c = proxy.connect()) {
            Statement st = c.createStatement();
            for (int i = 0; i < 30; i++) {
                try (ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
                    rs.next();
                    assertTrue(rs.getBoolean(1), "an autocommit read runs on a replica");
                }
            }
            // classified as a read, refused by the replica as a write, re-run on the primary: no error for the client
            try (ResultSet rs = st.executeQuery("select metrics_write(), pg_is_in_recovery()")) {
                rs.next();
                assertEquals(1, rs.getInt(1));
                assertEquals(false, rs.getBoolean(2));
            }
            String text = get(metricsPort, "/metrics").body();
            assertEquals(1.0, value(text, "pgbalancer_clients"));
            assertEquals(1.0, value(text, "pgbalancer_read_retries_total\\{reason=\"read_only_transaction\"\\}"));
            assertEquals(0.0, value(text, "pgbalancer_read_retries_total\\{reason=\"replica_failure\"\\}"));
            double onReplicas = value(text, "pgbalancer_backend_transactions_total\\{backend=\"[^\"]+\",role=\"replica\"\\}");
            assertTrue(onReplicas >= 31, "31 reads went to replicas, metrics say " + onReplicas);
            assertTrue(value(text, "pgbalancer_pool_connections\\{backend=\"[^\"]+\",database=\"app\",state=\"open\",user=\"app\"\\}") >= 1);
            assertEquals(404, get(metricsPort, "/other").statusCode());
            try {
                st.executeQuery("select * from metrics_no_such_table");
            } catch (java.sql.SQLException expected) {
                assertEquals("42P01", expected.getSQLState());
            }
            text = get(metricsPort, "/metrics").body();
            assertTrue(value(text, "pgbalancer_checkout_wait_seconds_count") >= 32, "every checkout is timed");
            double replicaCycles = value(text, "pgbalancer_backend_cycle_latency_seconds_count\\{backend=\"[^\"]+\","
                    + "role=\"replica\"\\}");
            assertTrue(replicaCycles >= 30, "cycles timed on replicas: " + replicaCycles);
            assertTrue(value(text, "pgbalancer_server_errors_total\\{class=\"42\"\\}") >= 1,
                    "the undefined table (42P01) is counted in class 42");
            assertEquals(0.0, value(text, "pgbalancer_causal_waiting"), "no read waits at rest");
            assertTrue(text.contains("jvm_memory_used_bytes{"), "JVM meters");
            assertTrue(text.contains("netty_allocator_memory_used"), "Netty allocator meters");
        }
    }
}

// purpose: child-JVM entry point for LocalClusterKillTest: starts a cluster, reports it, then waits to be SIGKILLed
package io.pgbalancer.cluster;

public final class ClusterKillTarget {
    private ClusterKillTarget() {
    }

    public static void main(String[] args) throws Exception {
        LocalCluster c = LocalCluster.builder().replicas(1).log(line -> System.out.println("child: " + line)).start();
        StringBuilder ports = new StringBuilder().append(c.primaryPort());
        c.replicaPorts().forEach(p -> ports.append(',').append(p));
        System.out.println("READY " + c.dataDir() + " " + ports);
        System.out.flush();
        Thread.sleep(120_000); // bounded: if nobody kills us, the shutdown hook cleans up
        c.close();
    }
}

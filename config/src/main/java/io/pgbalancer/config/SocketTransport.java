// purpose: which socket transport pgbalancer runs on (listen.transport): auto, io_uring, epoll or nio
package io.pgbalancer.config;

public enum SocketTransport {
    /** epoll where it loads (Linux), NIO elsewhere. */
    AUTO("auto"),
    /** Linux io_uring; epoll when the kernel or its limits refuse it. */
    IO_URING("io_uring"),
    EPOLL("epoll"),
    NIO("nio");

    private final String yamlName;

    SocketTransport(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the YAML file, e.g. {@code io_uring}. */
    public String yamlName() {
        return yamlName;
    }
}

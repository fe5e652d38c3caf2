package metrics;

//DEPS io.prometheus:prometheus-metrics-exposition-textformats:1.10.0

import base.UserFiles;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.io.IOException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One run's metrics, written at its end as {@code <T3_METRICS_DIR>/t3-tmux-<run>.prom} for
 * node_exporter's textfile collector: Prometheus's text format, by the Prometheus Java client's
 * own writer (its escaping and layout, not ours), replaced atomically (node_exporter reads only
 * {@code *.prom}; the temporary file is {@code .t3-tmux-<run>.prom.<random>.tmp}; see {@link #write}). Names carry
 * the {@code t3_tmux_} prefix and base units; labels never hold free text (a session's name):
 * only a user, an assistant, a reason's first word, a script.
 */
public final class Metrics {
    private record Point(Labels labels, double value) {}

    private record Family(String name, String help, boolean counter, List<Point> points) {}

    private final String run;
    private final Instant started;
    private final Map<String, Family> families = new LinkedHashMap<>();

    private Metrics(String run, Instant started) {
        this.run = run;
        this.started = started;
    }

    /** The metrics of one run of {@code run} (save, restore, heal, reconcile), which began at {@code started}. */
    public static Metrics of(String run, Instant started) {
        return new Metrics(run, started);
    }

    /** The file a run of {@code run} writes in {@code dir}: the one owner of its name. */
    public static Path file(Path dir, String run) {
        return dir.resolve("t3-tmux-" + run + ".prom");
    }

    /** A value: {@code labels} are name, value pairs. */
    public Metrics gauge(String name, String help, double value, String... labels) {
        return add(name, help, false, value, labels);
    }

    /** A running count, named without its {@code _total} (the writer adds it). */
    public Metrics counter(String name, String help, double value, String... labels) {
        return add(name, help, true, value, labels);
    }

    private Metrics add(String name, String help, boolean counter, double value, String... labels) {
        Family f = families.computeIfAbsent(name, n -> new Family(n, help, counter, new ArrayList<>()));
        if (f.counter() != counter) throw new IllegalArgumentException(name + " is a " + (f.counter() ? "counter" : "gauge") + " already");
        f.points().add(new Point(Labels.of(labels), value));
        return this;
    }

    /** The text node_exporter reads, with this run's own three lines (when it ran, how long, its exit status). */
    public byte[] text(int exit, Instant now) throws IOException {
        gauge("t3_tmux_run_last_timestamp_seconds", "When a run of each script last ended (Unix time)", now.getEpochSecond(), "run", run);
        gauge("t3_tmux_run_duration_seconds", "How long the last run of each script took", Duration.between(started, now).toMillis() / 1000.0, "run", run);
        gauge("t3_tmux_run_exit_status", "The last run's exit status: 0 all done, 1 something failed (see the journal), 2 bad arguments", exit, "run", run);
        List<MetricSnapshot> snapshots = new ArrayList<>();
        for (Family f : families.values()) {
            if (f.counter()) {
                CounterSnapshot.Builder b = CounterSnapshot.builder().name(f.name()).help(f.help());
                for (Point p : f.points()) b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(p.labels()).value(p.value()).build());
                snapshots.add(b.build());
            } else {
                GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(f.name()).help(f.help());
                for (Point p : f.points()) b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(p.labels()).value(p.value()).build());
                snapshots.add(b.build());
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, new MetricSnapshots(snapshots));
        return out.toByteArray();
    }

    /**
     * Writes this run's file into {@code dir} (0644: node_exporter reads it as its own user),
     * atomically, and safely in a folder others may write (Debian's node-exporter folder sits in
     * one the prometheus user owns): the folder is opened from / without following a symlink and
     * held, the temporary file is created new in it (O_EXCL, O_NOFOLLOW) and renamed within it, so
     * nothing swapped in can make root write or chmod another file. A failure is said, never the run's.
     */
    public void write(Path dir, int exit) {
        String name = file(dir, run).getFileName().toString();
        Path tmp = Path.of("." + name + "." + Long.toUnsignedString(System.nanoTime(), 36) + ".tmp");
        try (SecureDirectoryStream<Path> d = UserFiles.openDirNoFollow(dir.toAbsolutePath().normalize())) {
            byte[] data = text(exit, Instant.now());
            try {
                try (SeekableByteChannel ch = d.newByteChannel(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                        PosixFilePermissions.asFileAttribute(MODE))) {
                    ByteBuffer buf = ByteBuffer.wrap(data);
                    while (buf.hasRemaining()) ch.write(buf);
                }
                // The umask may have taken the others' read away: set it on the file made above (no symlink followed).
                d.getFileAttributeView(tmp, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setPermissions(MODE);
                d.move(tmp, d, Path.of(name));
            } finally {
                try {
                    d.deleteFile(tmp);
                } catch (IOException gone) {
                    // renamed into place
                }
            }
        } catch (IOException | RuntimeException e) {
            base.Log.warn("could not write the metrics file %s (T3_METRICS_DIR: a folder reached without a symlink): %s", file(dir, run), e.getMessage());
        }
    }

    private static final Set<PosixFilePermission> MODE = PosixFilePermissions.fromString("rw-r--r--");
}

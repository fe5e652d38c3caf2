package metrics;

//DEPS io.prometheus:prometheus-metrics-exposition-textformats:1.10.0

import base.AtomicFile;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
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
 * {@code *.prom}; the temporary file is {@code .t3-tmux-<run>.prom.<random>.tmp}). Names carry
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
     * atomically; a failure is said, never the run's.
     */
    public void write(Path dir, int exit) {
        try {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                base.Log.warn("T3_METRICS_DIR %s is not a directory; no metrics written (create it, or unset T3_METRICS_DIR)", dir);
                return;
            }
            AtomicFile.write(file(dir, run), text(exit, Instant.now()), PosixFilePermissions.fromString("rw-r--r--"));
        } catch (IOException | RuntimeException e) {
            base.Log.warn("could not write the metrics file %s: %s", file(dir, run), e.getMessage());
        }
    }
}

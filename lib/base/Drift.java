package base;

/** One way the host differs from what t3-reconcile wants, and how to put it right. */
public record Drift(String what, Fix fix) {
    /** Puts it right; may fail with a message for the log. */
    @FunctionalInterface
    public interface Fix {
        void apply() throws Exception;
    }
}

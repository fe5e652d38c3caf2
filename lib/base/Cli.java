package base;

//DEPS info.picocli:picocli:4.7.7

import picocli.CommandLine;

/**
 * Runs a picocli command the t3 way: exit codes as the scripts document them, and an unexpected
 * failure as one readable log line (what happened, to whom) rather than a stack trace.
 */
public final class Cli {
    private Cli() {}

    public static void exit(Object command, String[] args) {
        CommandLine cli = new CommandLine(command)
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    Log.error("%s failed: %s", cmd.getCommandName(), describe(e));
                    if (System.getenv("T3_DEBUG") != null) e.printStackTrace();
                    return e instanceof IllegalArgumentException ? 2 : 1; // bad settings are bad input
                });
        // Settings own every variable and its default: --help shows them from there.
        var usage = cli.getCommandSpec().usageMessage();
        java.util.List<String> footer = new java.util.ArrayList<>(Settings.help());
        footer.addAll(java.util.List.of(usage.footer()));
        usage.footer(footer.toArray(String[]::new));
        System.exit(cli.execute(args));
    }

    /** An exception in words: file-system errors name the file and what went wrong with it. */
    public static String describe(Throwable e) {
        if (e instanceof java.nio.file.FileSystemException f) {
            String what = f.getReason() != null ? f.getReason() : e.getClass().getSimpleName().replace("Exception", "").replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase();
            return f.getFile() + ": " + what;
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }
}

package base;

//DEPS info.picocli:picocli:4.7.7

import picocli.CommandLine;

/**
 * Runs a picocli command the t3 way: exit codes as the scripts document them, and an unexpected
 * failure as one readable log line (what happened, to whom) rather than a stack trace.
 */
public final class Cli {
    private Cli() {}

    /** Options a command that can show its plan shares: change nothing, and print it for people or for programs. */
    public static final class Plan {
        @CommandLine.Option(names = "--dry-run", description = "print the plan, per row: state now, action, conversation, why; change nothing")
        public boolean dryRun;

        @CommandLine.Option(names = "--json", description = "with --list or --dry-run: one JSON document (an array of objects) on stdout")
        public boolean json;
    }

    public static void exit(Object command, String[] args) {
        CommandLine cli = new CommandLine(command)
                // Bad arguments: one line that says what and where to look, not the whole usage.
                .setParameterExceptionHandler((e, given) -> {
                    Log.error("%s; see %s --help", e.getMessage().replaceFirst("^Error: ", ""), e.getCommandLine().getCommandName());
                    return CommandLine.ExitCode.USAGE;
                })
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

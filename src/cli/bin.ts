/** The bundle's entry (package.json `bin`): run the CLI with this process's arguments. */
import { main } from "./main";

process.exitCode = await main(process.argv.slice(2), process.env);

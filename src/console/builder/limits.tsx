/**
 * One limit of the builder (a tool's or `all_tools`'): counter, window, max, scope and cost.
 */
import { fieldNames } from "./fields";
import { WINDOW_CHOICES, type LimitForm } from "./form";
import { ActionButton, idOf, refreshing, type BuilderUrls } from "./controls";

export function LimitRow(props: { urls: BuilderUrls; owner: string; index: number; limit: LimitForm; shared: string[]; ownerLabel: string; paths: string }) {
  const { owner, index: j, limit, urls } = props;
  const name = (key: keyof LimitForm) => fieldNames.limit(owner, j, key);
  return (
    <div class="limit-row" role="group" aria-label={`Limit ${j + 1} of ${props.ownerLabel}`}>
      <label for={idOf(name("counter"))}>
        Counter
        <input id={idOf(name("counter"))} name={name("counter")} value={limit.counter} list="counter-names" autocomplete="off" spellcheck={false} />
      </label>
      <label for={idOf(name("window"))}>
        Window
        <select id={idOf(name("window"))} name={name("window")} {...refreshing(urls)}>
          {WINDOW_CHOICES.map((choice) => (
            <option value={choice} selected={choice === limit.window}>
              {choice === "seconds" ? "seconds…" : choice}
            </option>
          ))}
        </select>
      </label>
      {limit.window === "seconds" ? (
        <label for={idOf(name("seconds"))}>
          Seconds
          <input id={idOf(name("seconds"))} name={name("seconds")} value={limit.seconds} inputmode="numeric" />
        </label>
      ) : (
        <input type="hidden" name={name("seconds")} value={limit.seconds} />
      )}
      <label for={idOf(name("max"))}>
        Max
        <input id={idOf(name("max"))} name={name("max")} value={limit.max} inputmode="numeric" />
      </label>
      <label for={idOf(name("scope"))}>
        Scope
        <select id={idOf(name("scope"))} name={name("scope")}>
          <option value="grant" selected={limit.scope === "grant"}>
            grant
          </option>
          <option value="" selected={limit.scope === ""}>
            not written (grant)
          </option>
        </select>
      </label>
      <label for={idOf(name("cost"))}>
        Cost (optional)
        <input
          id={idOf(name("cost"))}
          name={name("cost")}
          value={limit.cost}
          list={props.paths}
          placeholder="1 per call"
          autocomplete="off"
          spellcheck={false}
        />
      </label>
      <div class="limit-foot">
        {props.shared.length > 0 ? <span class="hint">Shared with {props.shared.join(", ")}</span> : <span />}
        <ActionButton urls={urls} action={`remove-limit:${owner}:${j}`} label={`Remove limit ${j + 1}`} class="small quiet" />
      </div>
    </div>
  );
}

// Issue 12, "predict, then see": a learner may say what they expect before a request; the
// inspector then shows the prediction beside what happened, and the choice is cleared for the
// next request. Never required: a request with no prediction shows none.
import { expect, test, openSandbox } from './support/lab-page.ts';

test('learner predicts a Set-Cookie and store.set for a first Write, then a Set-Cookie for a Visit, and sees which was right', async ({ page }) => {
  const lab = await openSandbox(page);
  const prediction = page.getByRole('group', { name: 'Predict first (optional)' });
  const cookieChoice = prediction.getByLabel('Set-Cookie?');
  const storeChoice = prediction.getByLabel('Store');
  const outcome = page.locator('#inspector .prediction-outcome');

  await cookieChoice.selectOption('sent');
  await storeChoice.selectOption('set');
  await lab.write.click();
  await expect(lab.exchange(1)).toBeVisible();
  await expect(outcome).toHaveText('You predicted: a Set-Cookie ✔ right · store.set ✔ right');
  await expect(cookieChoice, 'the prediction belonged to that request').toHaveValue('');
  await expect(storeChoice).toHaveValue('');

  await cookieChoice.selectOption('sent');
  await lab.visit.click();
  await expect(lab.exchange(2)).toBeVisible();
  await expect(outcome).toHaveText('You predicted: a Set-Cookie ✘ it was no Set-Cookie');

  await lab.visit.click();
  await expect(lab.exchange(3)).toBeVisible();
  await expect(outcome, 'no prediction, none shown').toHaveCount(0);
});
